package com.example.catalog.web;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.SocketTimeoutException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.servlet.HandlerExceptionResolver;

/**
 * The first filter every request meets. It puts the security headers on every answer, and
 * reads the request body whole, whatever its content type, before anything else can: at
 * most {@code max-body-size} (413), within {@code body-read-timeout} (408), and with at
 * most {@code body-reads-per-client} bodies arriving at once from one address (503). The
 * rest of the chain reads the body from memory. A client that trickles its body so holds
 * a thread for a bounded time, and cannot hold more than its share of them; each refusal
 * uses a status on which Tomcat closes the connection instead of waiting for the rest of
 * the body. Refusals are rendered by {@link ApiExceptionHandler} as problem+json.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
class RequestGuard extends OncePerRequestFilter {

	/**
	 * The headers a scanner expects of a JSON API. The one page meant for a browser,
	 * Swagger UI, gets {@link #SWAGGER_UI_POLICY} instead of this policy.
	 */
	static final Map<String, String> SECURITY_HEADERS = Map.of("X-Content-Type-Options", "nosniff", "X-Frame-Options",
			"DENY", "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'", "Referrer-Policy",
			"no-referrer");

	/**
	 * Where springdoc serves Swagger UI's files; {@code /swagger-ui.html} only redirects
	 * here, and the page fetches {@code /v3/api-docs/swagger-config} and the document
	 * like any API call, under this page's policy, so they keep the strict one.
	 */
	static final String SWAGGER_UI_PATH = "/swagger-ui/";

	/**
	 * What Swagger UI's page needs and no more (checked in headless Chromium by
	 * {@code .ci/swagger-ui.sh}, which fails on any policy message in the console): its
	 * own scripts, stylesheets and favicons; the data: images its stylesheet draws icons
	 * with; fetches of the document and of "Try it out" from the same origin; and the one
	 * inline {@code <style>} element, inside the bundled Swagger logo, by its hash (a
	 * Swagger UI upgrade that changes it shows up in that check, whose console message
	 * names the new hash). No inline script, no framing.
	 */
	static final String SWAGGER_UI_POLICY = "default-src 'none'; script-src 'self'; "
			+ "style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; img-src 'self' data:; "
			+ "connect-src 'self'; frame-ancestors 'none'";

	private final ApiProperties api;

	private final HandlerExceptionResolver errors;

	private final Map<String, Integer> bodiesInFlight = new ConcurrentHashMap<>();

	RequestGuard(ApiProperties api, @Qualifier("handlerExceptionResolver") HandlerExceptionResolver errors) {
		this.api = api;
		this.errors = errors;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		SECURITY_HEADERS.forEach(response::setHeader);
		if (isSwaggerUi(request)) {
			response.setHeader("Content-Security-Policy", SWAGGER_UI_POLICY);
		}
		HttpServletRequest bounded;
		try {
			bounded = hasBody(request) ? withBodyRead(request, response) : request;
		}
		catch (ResponseStatusException refusal) {
			this.errors.resolveException(request, response, null, refusal);
			return;
		}
		chain.doFilter(bounded, response);
	}

	// The servlet path is decoded and normalized by Tomcat: "/swagger-ui/../products" is
	// not a Swagger UI path.
	private static boolean isSwaggerUi(HttpServletRequest request) {
		String pathInfo = request.getPathInfo();
		String path = (pathInfo != null) ? request.getServletPath() + pathInfo : request.getServletPath();
		return path.startsWith(SWAGGER_UI_PATH);
	}

	private static boolean hasBody(HttpServletRequest request) {
		return request.getContentLengthLong() > 0 || request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null;
	}

	private HttpServletRequest withBodyRead(HttpServletRequest request, HttpServletResponse response)
			throws IOException {
		long limit = this.api.maxBodySize().toBytes();
		if (request.getContentLengthLong() > limit) {
			throw tooLarge();
		}
		String client = request.getRemoteAddr();
		if (this.bodiesInFlight.merge(client, 1, Integer::sum) > this.api.bodyReadsPerClient()) {
			release(client);
			response.setHeader(HttpHeaders.RETRY_AFTER, "1");
			throw new ResponseStatusException(HttpStatus.SERVICE_UNAVAILABLE,
					"Too many request bodies arriving at once from this address; retry shortly");
		}
		try {
			return new ReadBody(request, read(request.getInputStream(), limit));
		}
		finally {
			release(client);
		}
	}

	private void release(String client) {
		this.bodiesInFlight.computeIfPresent(client, (address, count) -> (count > 1) ? count - 1 : null);
	}

	private byte[] read(InputStream in, long limit) {
		long deadline = System.nanoTime() + this.api.bodyReadTimeout().toNanos();
		ByteArrayOutputStream body = new ByteArrayOutputStream();
		byte[] buffer = new byte[8192];
		try {
			for (int n = in.read(buffer); n != -1; n = in.read(buffer)) {
				if (body.size() + n > limit) {
					throw tooLarge();
				}
				body.write(buffer, 0, n);
				// Checked between reads: each read is bounded by the connection timeout.
				if (System.nanoTime() - deadline > 0) {
					throw tooSlow();
				}
			}
		}
		catch (SocketTimeoutException ex) {
			throw tooSlow();
		}
		catch (IOException ex) {
			// The body ended early, or its chunked framing was broken.
			throw new ResponseStatusException(HttpStatus.BAD_REQUEST, "The request body could not be read", ex);
		}
		return body.toByteArray();
	}

	private ResponseStatusException tooLarge() {
		return new ResponseStatusException(HttpStatus.CONTENT_TOO_LARGE,
				"The body is larger than " + this.api.maxBodySize());
	}

	private ResponseStatusException tooSlow() {
		return new ResponseStatusException(HttpStatus.REQUEST_TIMEOUT,
				"The body took longer than " + this.api.bodyReadTimeout().toSeconds() + " s to arrive");
	}

	/** The request, with its body served from memory. */
	private static final class ReadBody extends HttpServletRequestWrapper {

		private final byte[] body;

		ReadBody(HttpServletRequest request, byte[] body) {
			super(request);
			this.body = body;
		}

		@Override
		public BufferedReader getReader() {
			String encoding = getCharacterEncoding();
			return new BufferedReader(new InputStreamReader(getInputStream(),
					(encoding != null) ? Charset.forName(encoding) : StandardCharsets.ISO_8859_1));
		}

		@Override
		public ServletInputStream getInputStream() {
			ByteArrayInputStream in = new ByteArrayInputStream(this.body);
			return new ServletInputStream() {
				@Override
				public int read() {
					return in.read();
				}

				@Override
				public int read(byte[] bytes, int offset, int length) {
					return in.read(bytes, offset, length);
				}

				@Override
				public boolean isFinished() {
					return in.available() == 0;
				}

				@Override
				public boolean isReady() {
					return true;
				}

				@Override
				public void setReadListener(ReadListener listener) {
					throw new UnsupportedOperationException("The body has already been read");
				}
			};
		}

	}

}
