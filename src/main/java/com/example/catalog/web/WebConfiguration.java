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
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;
import org.springframework.web.server.ResponseStatusException;

/**
 * What every request goes through before a controller sees it, once {@link RequestGuard}
 * has bounded its body: no path parameters, the API key on writes (wrong keys throttled
 * per client), the per-client budget of reads of missing ids, and strict JSON (the body
 * itself is checked by {@link StrictRequestBody}). The checks are interceptors rather
 * than servlet filters so their refusals are rendered as problem+json by
 * {@link ApiExceptionHandler} like every other error.
 */
@Configuration(proxyBeanMethods = false)
class WebConfiguration implements WebMvcConfigurer {

	private static final Set<String> READ_METHODS = Set.of("GET", "HEAD", "OPTIONS");

	private final ApiProperties api;

	private final ClientLimits limits;

	WebConfiguration(ApiProperties api, ClientLimits limits) {
		this.api = api;
		this.limits = limits;
	}

	@Override
	public void addInterceptors(InterceptorRegistry registry) {
		registry.addInterceptor(new HandlerInterceptor() {
			@Override
			public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
				refusePathParameters(request);
				checkApiKey(request);
				return true;
			}
		});
		registry.addInterceptor(new HandlerInterceptor() {
			@Override
			public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
				refuseMissingIdFlood(request);
				return true;
			}
		}).addPathPatterns("/products/*");
		registry.addInterceptor(new HandlerInterceptor() {
			@Override
			public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
				// A batch read (GET /products?ids=...) spends the same budget per id
				// it does not find, so it is refused like a single read once the
				// budget is spent.
				if (READ_METHODS.contains(request.getMethod()) && request.getParameter("ids") != null) {
					refuseMissingIdFlood(request);
				}
				return true;
			}
		}).addPathPatterns("/products");
	}

	// The API has no use for path parameters, and the servlet container would silently
	// drop them: "/products/1;x=y" would name product 1.
	private static void refusePathParameters(HttpServletRequest request) {
		if (request.getRequestURI().contains(";")) {
			throw new ResponseStatusException(HttpStatus.BAD_REQUEST, "Path parameters (;) are not supported");
		}
	}

	// A flood of random ids costs a database read, Redis calls and a log line each; a
	// client that keeps getting 404s is stopped before any of them.
	private void refuseMissingIdFlood(HttpServletRequest request) {
		this.limits.refuseMissingIdFlood(request.getRemoteAddr());
	}

	private void checkApiKey(HttpServletRequest request) {
		if (!this.api.requiresKey() || READ_METHODS.contains(request.getMethod())) {
			return;
		}
		String client = request.getRemoteAddr();
		this.limits.refuseKeyGuessing(client);
		String given = request.getHeader("X-API-Key");
		// Constant-time comparison: the time taken must not tell how much of a guess was
		// right.
		if (given == null || !MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
				this.api.key().getBytes(StandardCharsets.UTF_8))) {
			this.limits.keyFailed(client);
			throw new ResponseStatusException(HttpStatus.UNAUTHORIZED,
					"Writes need a valid API key in the X-API-Key header");
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

}
