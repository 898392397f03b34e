package com.example.catalog.web;

import java.net.URI;
import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Settings of the HTTP API, bound from {@code catalog.api.*}. A key that could never
 * match (blank, short, not printable ASCII) stops start-up rather than silently blocking
 * every write.
 *
 * @param key when set ({@code API_KEY}), writes need it in the {@code X-API-Key} header;
 * reads stay open
 * @param maxBodySize largest request body accepted, whatever its content type; larger
 * ones get 413
 * @param bodyReadTimeout longest time a client may take to send a whole body; slower ones
 * get 408
 * @param bodyReadsPerClient bodies one client address may be sending at the same time;
 * more get 503
 * @param failedKeysPerMinute wrong keys one client address may send per minute before its
 * writes get 429; 0 = no limit
 * @param notFoundPerSecond 404s one client address may get per second for a product id
 * before its reads by id get 429; 0 = no limit
 * @param serverUrl the API's address for clients, listed as the only server in the
 * OpenAPI document ({@code API_SERVER_URL}); empty: no servers, so clients use the
 * address they read the document from
 * @param serverDescription what the document says of that server, e.g. the environment
 * ({@code API_SERVER_DESCRIPTION})
 */
@ConfigurationProperties("catalog.api")
public record ApiProperties(String key, @DefaultValue("64KB") DataSize maxBodySize,
		@DefaultValue("10s") Duration bodyReadTimeout, @DefaultValue("32") int bodyReadsPerClient,
		@DefaultValue("10") int failedKeysPerMinute, @DefaultValue("50") int notFoundPerSecond, String serverUrl,
		@DefaultValue("production") String serverDescription) {

	static final int MIN_KEY_LENGTH = 16;

	public ApiProperties {
		if (key != null && !key.isEmpty()) {
			if (key.isBlank()) {
				throw new IllegalArgumentException("API_KEY is blank: set a key of at least " + MIN_KEY_LENGTH
						+ " printable ASCII characters, or leave it empty to keep writes open");
			}
			if (!key.chars().allMatch((c) -> c > 0x20 && c < 0x7F)) {
				// Headers travel as ISO-8859-1 and Tomcat trims their spaces: such a key
				// could never match.
				throw new IllegalArgumentException(
						"API_KEY must be printable ASCII (letters, digits, punctuation), without spaces");
			}
			if (key.length() < MIN_KEY_LENGTH) {
				throw new IllegalArgumentException("API_KEY is " + key.length() + " characters long: use at least "
						+ MIN_KEY_LENGTH + " (e.g. openssl rand -hex 24)");
			}
		}
		if (serverUrl != null && !serverUrl.isEmpty() && !URI.create(serverUrl).isAbsolute()) {
			throw new IllegalArgumentException(
					"API_SERVER_URL must be an absolute URL, e.g. https://catalog.example.com");
		}
		if (bodyReadsPerClient < 1 || failedKeysPerMinute < 0 || notFoundPerSecond < 0) {
			throw new IllegalArgumentException("catalog.api limits must not be negative (body-reads-per-client >= 1)");
		}
	}

	boolean requiresKey() {
		return this.key != null && !this.key.isEmpty();
	}

}
