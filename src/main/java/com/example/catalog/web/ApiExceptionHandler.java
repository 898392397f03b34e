package com.example.catalog.web;

import java.nio.charset.CharacterCodingException;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.Path;
import org.slf4j.Logger;
import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.exc.InvalidNullException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;
import tools.jackson.databind.util.NamingStrategyImpls;

import com.example.catalog.product.ProductNotFoundException;
import com.example.catalog.product.TooManyFallbackReadsException;

import org.springframework.core.MethodParameter;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.OptimisticLockingFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.http.CacheControl;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.validation.FieldError;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyAdvice;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

/**
 * Turns every error into an RFC 9457 problem+json response whose detail tells the caller
 * what to fix, with the offending fields named as they are in the JSON. Nothing internal
 * (class names, stack traces) reaches the body, and no cache stores an error
 * ({@code Cache-Control: no-store}).
 */
@RestControllerAdvice
class ApiExceptionHandler extends ResponseEntityExceptionHandler implements ResponseBodyAdvice<Object> {

	private static final Logger logger = LoggerFactory.getLogger(ApiExceptionHandler.class);

	private final ClientLimits limits;

	ApiExceptionHandler(ClientLimits limits) {
		this.limits = limits;
	}

	@Override
	public boolean supports(MethodParameter returnType, Class<? extends HttpMessageConverter<?>> converterType) {
		return true;
	}

	@Override
	public Object beforeBodyWrite(Object body, MethodParameter returnType, MediaType contentType,
			Class<? extends HttpMessageConverter<?>> converterType, ServerHttpRequest request,
			ServerHttpResponse response) {
		if (body instanceof ProblemDetail) {
			response.getHeaders().setCacheControl(CacheControl.noStore());
		}
		return body;
	}

	@ExceptionHandler(ProductNotFoundException.class)
	ProblemDetail productNotFound(ProductNotFoundException ex, HttpServletRequest request) {
		this.limits.notFound(request.getRemoteAddr());
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.NOT_FOUND, ex.getMessage());
		problem.setTitle("Product not found");
		return problem;
	}

	// Writes lock the product's row before they read it (product/ProductService), so
	// their versioned UPDATE no longer misses: this stays for a conflict nothing expects.
	@ExceptionHandler(OptimisticLockingFailureException.class)
	ProblemDetail concurrentUpdate(OptimisticLockingFailureException ex) {
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.CONFLICT,
				"The product was changed by another request at the same time; read it again and retry");
		problem.setTitle("Conflict");
		return problem;
	}

	/**
	 * The database is locked by another process past the busy timeout, or cannot be
	 * reached.
	 */
	@ExceptionHandler({ CannotCreateTransactionException.class, TransientDataAccessException.class,
			DataAccessResourceFailureException.class })
	ResponseEntity<ProblemDetail> databaseUnavailable(Exception ex) {
		logger.warn("Database busy or unavailable: {}", ex.getMessage());
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE,
				"The database is busy or unavailable; nothing was changed, retry shortly");
		problem.setTitle("Service Unavailable");
		return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).header(HttpHeaders.RETRY_AFTER, "1").body(problem);
	}

	/**
	 * Redis is unavailable and the database already serves as many reads as it can. Not
	 * logged per request: under an outage's load that would be most lines of the log;
	 * {@code catalog_fallback_refused_total} counts them.
	 */
	@ExceptionHandler(TooManyFallbackReadsException.class)
	ResponseEntity<ProblemDetail> tooManyFallbackReads(TooManyFallbackReadsException ex) {
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE,
				"The cache is unavailable and the database is serving as many reads as it can; retry shortly");
		problem.setTitle("Service Unavailable");
		return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).header(HttpHeaders.RETRY_AFTER, "1").body(problem);
	}

	@ExceptionHandler(Exception.class)
	ProblemDetail unexpected(Exception ex) {
		logger.error("Unexpected error", ex);
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.INTERNAL_SERVER_ERROR,
				"An unexpected error occurred; it has been logged");
		problem.setTitle("Internal Server Error");
		return problem;
	}

	/**
	 * A body validated in the controller rather than by {@code @Valid} (a PATCH merge
	 * patch, once turned into the PUT body): the same answer as a PUT body would get.
	 */
	@ExceptionHandler(ConstraintViolationException.class)
	ProblemDetail invalidFields(ConstraintViolationException ex) {
		List<Map<String, String>> errors = ex.getConstraintViolations()
			.stream()
			.map((violation) -> Map.of("field", jsonName(lastNode(violation)), "message", violation.getMessage()))
			.toList();
		return validationFailed(errors);
	}

	private static String lastNode(ConstraintViolation<?> violation) {
		String name = "";
		for (Path.Node node : violation.getPropertyPath()) {
			name = node.getName();
		}
		return name;
	}

	private static ProblemDetail validationFailed(List<Map<String, String>> errors) {
		String detail = errors.stream()
			.map((error) -> error.get("field") + " " + error.get("message"))
			.collect(Collectors.joining("; "));
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, "Invalid fields: " + detail);
		problem.setTitle("Validation failed");
		problem.setProperty("errors", errors);
		return problem;
	}

	@Override
	protected ResponseEntity<Object> handleMethodArgumentNotValid(MethodArgumentNotValidException ex,
			HttpHeaders headers, HttpStatusCode status, WebRequest request) {
		List<Map<String, String>> errors = ex.getBindingResult()
			.getFieldErrors()
			.stream()
			.map((error) -> Map.of("field", jsonName(error.getField()), "message", message(error)))
			.toList();
		return handleExceptionInternal(ex, validationFailed(errors), headers, HttpStatus.BAD_REQUEST, request);
	}

	@Override
	protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException ex,
			HttpHeaders headers, HttpStatusCode status, WebRequest request) {
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, unreadableDetail(ex));
		problem.setTitle("Unreadable request body");
		return handleExceptionInternal(ex, problem, headers, HttpStatus.BAD_REQUEST, request);
	}

	private static String unreadableDetail(HttpMessageNotReadableException ex) {
		Throwable cause = ex.getCause();
		if (cause instanceof CharacterCodingException) {
			return "The body is not valid UTF-8";
		}
		if (cause instanceof UnrecognizedPropertyException unknown) {
			return "Unknown field '" + unknown.getPropertyName()
					+ "'; known fields are name, description, price and stock_quantity";
		}
		if (cause instanceof InvalidNullException invalidNull) {
			return "Field '" + fieldPath(invalidNull) + "' must not be null";
		}
		if (cause instanceof StreamReadException read && read.getOriginalMessage().startsWith("Duplicate")) {
			return "Duplicate field in the JSON body: each field may appear once";
		}
		if (cause instanceof StreamConstraintsException) {
			return "The JSON body is too deeply nested or has too long a value";
		}
		if (cause instanceof MismatchedInputException mismatch && !mismatch.getPath().isEmpty()) {
			return "Field '" + fieldPath(mismatch) + "' has the wrong type or an out-of-range value";
		}
		if (cause instanceof MismatchedInputException) {
			return "The body must be a JSON object";
		}
		if (cause instanceof StreamReadException) {
			return "The body is not well-formed JSON";
		}
		if (cause == null) {
			return "The request body is missing";
		}
		return "The request body could not be read";
	}

	private static String fieldPath(JacksonException ex) {
		return ex.getPath()
			.stream()
			.map((ref) -> (ref.getPropertyName() != null) ? ref.getPropertyName() : "[" + ref.getIndex() + "]")
			.collect(Collectors.joining("."));
	}

	private static String message(FieldError error) {
		return (error.getDefaultMessage() != null) ? error.getDefaultMessage() : "is invalid";
	}

	private static String jsonName(String javaName) {
		return NamingStrategyImpls.SNAKE_CASE.translate(javaName);
	}

}
