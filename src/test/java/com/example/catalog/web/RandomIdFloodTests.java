package com.example.catalog.web;

import org.hibernate.SessionFactory;
import org.hibernate.stat.Statistics;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import jakarta.persistence.EntityManagerFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that asks for id after id that does not exist gets a few 404s per second, then
 * 429 with Retry-After: the flood stops costing database reads, Redis calls and log
 * lines.
 */
@IntegrationTest
class RandomIdFloodTests {

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
		registry.add("catalog.api.not-found-per-second", () -> "5");
	}

	@Autowired
	private RestTestClient http;

	@Autowired
	private EntityManagerFactory entityManagerFactory;

	@Test
	void throttlesAClientThatKeepsAskingForMissingIds() {
		Statistics statistics = this.entityManagerFactory.unwrap(SessionFactory.class).getStatistics();
		int notFound = 0;
		int throttled = 0;
		for (int i = 0; i < 50; i++) {
			int status = this.http.get()
				.uri("/products/{id}", 800_000_000L + i)
				.exchange()
				.returnResult(String.class)
				.getStatus()
				.value();
			notFound += (status == 404) ? 1 : 0;
			throttled += (status == 429) ? 1 : 0;
		}
		long loadsBefore = statistics.getEntityLoadCount() + statistics.getQueryExecutionCount()
				+ statistics.getPrepareStatementCount();

		this.http.get()
			.uri("/products/{id}", 900_000_000L)
			.exchange()
			.expectStatus()
			.isEqualTo(429)
			.expectHeader()
			.exists("Retry-After");

		assertThat(notFound).isBetween(5, 25);
		assertThat(throttled).isGreaterThanOrEqualTo(25);
		assertThat(statistics.getEntityLoadCount() + statistics.getQueryExecutionCount()
				+ statistics.getPrepareStatementCount())
			.isEqualTo(loadsBefore);
		this.http.get().uri("/health").exchange().expectStatus().isOk();
	}

}
