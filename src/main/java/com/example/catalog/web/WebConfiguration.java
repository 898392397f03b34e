package com.example.catalog.web;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Set;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.type.LogicalType;

import org.springframework.boot.jackson.autoconfigure.JsonMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.web.ErrorResponseException;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * What every request goes through before a controller sees it: the API key on writes, the body
 * size limit, and strict JSON. The checks are interceptors rather than servlet filters so their
 * refusals are rendered as problem+json by {@link ApiExceptionHandler} like every other error.
 */
@Configuration(proxyBeanMethods = false)
class WebConfiguration implements WebMvcConfigurer {

	private static final Set<String> READ_METHODS = Set.of("GET", "HEAD", "OPTIONS");

	private final ApiProperties api;

	WebConfiguration(ApiProperties api) {
		this.api = api;
	}

	@Override
	public void addInterceptors(InterceptorRegistry registry) {
		registry.addInterceptor(new HandlerInterceptor() {
			@Override
			public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
				checkBodySize(request);
				checkApiKey(request);
				return true;
			}
		});
	}

	// Catches bodies that declare their length; chunked ones are cut by Jackson's document length limit.
	private void checkBodySize(HttpServletRequest request) {
		if (request.getContentLengthLong() > this.api.maxBodySize().toBytes()) {
			throw new ErrorResponseException(HttpStatus.CONTENT_TOO_LARGE,
					problem(HttpStatus.CONTENT_TOO_LARGE, "The body is larger than " + this.api.maxBodySize()), null);
		}
	}

	private void checkApiKey(HttpServletRequest request) {
		if (!this.api.requiresKey() || READ_METHODS.contains(request.getMethod())) {
			return;
		}
		String given = request.getHeader("X-API-Key");
		// Constant-time comparison: the time taken must not tell how much of a guess was right.
		if (given == null || !MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
				this.api.key().getBytes(StandardCharsets.UTF_8))) {
			throw new ErrorResponseException(HttpStatus.UNAUTHORIZED,
					problem(HttpStatus.UNAUTHORIZED, "Writes need a valid API key in the X-API-Key header"), null);
		}
	}

	/** A number or boolean where text is expected is a client error, not text. */
	@Bean
	JsonMapperBuilderCustomizer refuseScalarsAsText() {
		return (builder) -> builder.withCoercionConfig(LogicalType.Textual,
				(config) -> config.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
					.setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
					.setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail));
	}

	private static ProblemDetail problem(HttpStatus status, String detail) {
		return ProblemDetail.forStatusAndDetail(status, detail);
	}

}
