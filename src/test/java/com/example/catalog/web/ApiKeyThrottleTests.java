package com.example.catalog.web;

import org.junit.jupiter.api.Test;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guessing the API key is throttled per client address: after a few wrong keys, every
 * write from that address gets 429 with Retry-After, even with the right key, until the
 * period ends; reads stay open.
 */
@IntegrationTest
class ApiKeyThrottleTests {

	private static final String KEY = "the-right-key-0123456789";

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
		registry.add("catalog.api.key", () -> KEY);
		registry.add("catalog.api.failed-keys-per-minute", () -> "3");
	}

	@Autowired
	private RestTestClient http;

	@Test
	void throttlesAClientThatKeepsSendingWrongKeys() {
		for (int i = 0; i < 3; i++) {
			post("wrong-key-" + i).expectStatus().isUnauthorized();
		}

		post("wrong-key-again").expectStatus()
			.isEqualTo(429)
			.expectHeader()
			.contentType(MediaType.APPLICATION_PROBLEM_JSON)
			.expectHeader()
			.value("Retry-After", (seconds) -> assertThat(Integer.parseInt(seconds)).isBetween(1, 60));
		post(KEY).expectStatus().isEqualTo(429);
		this.http.get().uri("/health").exchange().expectStatus().isOk();
		this.http.get()
			.uri("/products/1")
			.exchange()
			.expectStatus()
			.value((status) -> assertThat(status).isIn(200, 404));
	}

	private RestTestClient.ResponseSpec post(String key) {
		return this.http.post()
			.uri("/products")
			.header("X-API-Key", key)
			.contentType(MediaType.APPLICATION_JSON)
			.body("{\"name\": \"Guess\", \"price\": 1.00, \"stock_quantity\": 1}")
			.exchange();
	}

}
