package com.example.catalog.web;

import org.junit.jupiter.api.Test;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/** With {@code API_KEY} set, writes need the key and reads stay open. */
@IntegrationTest
class ApiKeyTests {

	private static final String KEY = "s3cret-key-for-the-tests";

	private static final String PRODUCT = """
			{"name": "Safe", "price": 500.00, "stock_quantity": 1}""";

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
		registry.add("catalog.api.key", () -> KEY);
	}

	@Autowired
	private RestTestClient http;

	@Autowired
	private JdbcTemplate jdbc;

	@Test
	void refusesWritesWithoutTheRightKeyAndWritesNothing() {
		long rows = rows();

		this.http.post()
			.uri("/products")
			.contentType(MediaType.APPLICATION_JSON)
			.body(PRODUCT)
			.exchange()
			.expectStatus()
			.isUnauthorized()
			.expectHeader()
			.contentType(MediaType.APPLICATION_PROBLEM_JSON)
			.expectBody()
			.jsonPath("$.detail")
			.isEqualTo("Writes need a valid API key in the X-API-Key header");
		this.http.post()
			.uri("/products")
			.header("X-API-Key", "s3cret-key-for-the-tesTs")
			.contentType(MediaType.APPLICATION_JSON)
			.body(PRODUCT)
			.exchange()
			.expectStatus()
			.isUnauthorized();
		this.http.post()
			.uri("/products")
			.header("X-API-Key", KEY + "x")
			.contentType(MediaType.APPLICATION_JSON)
			.body(PRODUCT)
			.exchange()
			.expectStatus()
			.isUnauthorized();

		assertThat(rows()).isEqualTo(rows);
	}

	@Test
	void acceptsWritesWithTheKeyAndKeepsReadsOpen() {
		String location = this.http.post()
			.uri("/products")
			.header("X-API-Key", KEY)
			.contentType(MediaType.APPLICATION_JSON)
			.body(PRODUCT)
			.exchange()
			.expectStatus()
			.isCreated()
			.returnResult()
			.getResponseHeaders()
			.getLocation()
			.getPath();

		this.http.get().uri(location).exchange().expectStatus().isOk();
		this.http.put()
			.uri(location)
			.contentType(MediaType.APPLICATION_JSON)
			.body("{\"price\": 1.00}")
			.exchange()
			.expectStatus()
			.isUnauthorized();
		this.http.delete().uri(location).exchange().expectStatus().isUnauthorized();
		this.http.put()
			.uri(location)
			.header("X-API-Key", KEY)
			.contentType(MediaType.APPLICATION_JSON)
			.body("{\"price\": 1.00}")
			.exchange()
			.expectStatus()
			.isOk();
		this.http.delete().uri(location).header("X-API-Key", KEY).exchange().expectStatus().isNoContent();
	}

	@Test
	void refusesBodiesOverTheLimit() {
		String huge = "{\"name\": \"x\", \"description\": \"" + "d".repeat(70_000)
				+ "\", \"price\": 1, \"stock_quantity\": 1}";

		this.http.post()
			.uri("/products")
			.header("X-API-Key", KEY)
			.contentType(MediaType.APPLICATION_JSON)
			.body(huge)
			.exchange()
			.expectStatus()
			.isEqualTo(413)
			.expectHeader()
			.contentType(MediaType.APPLICATION_PROBLEM_JSON);
	}

	private long rows() {
		return this.jdbc.queryForObject("SELECT COUNT(*) FROM products", Long.class);
	}

}
