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
 * Only health, info and prometheus are exposed, and the cache's metrics are among
 * Prometheus's.
 */
@IntegrationTest
class ManagementEndpointsTests {

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
	}

	@Autowired
	private RestTestClient http;

	@Test
	void exposesCacheMetricsToPrometheus() {
		String id = this.http.post()
			.uri("/products")
			.contentType(MediaType.APPLICATION_JSON)
			.body("{\"name\": \"Meter\", \"price\": 1.00, \"stock_quantity\": 1}")
			.exchange()
			.expectStatus()
			.isCreated()
			.returnResult()
			.getResponseHeaders()
			.getLocation()
			.getPath()
			.replace("/products/", "");
		this.http.get().uri("/products/{id}", id).exchange().expectStatus().isOk();
		this.http.get().uri("/products/{id}", id).exchange().expectStatus().isOk();

		String metrics = this.http.get()
			.uri("/actuator/prometheus")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody(String.class)
			.returnResult()
			.getResponseBody();

		assertThat(metrics).contains("catalog_cache_lookups_total{outcome=\"hit\"}",
				"catalog_cache_lookups_total{outcome=\"miss\"}",
				"catalog_cache_lookups_total{outcome=\"negative_hit\"}",
				"catalog_cache_lookups_total{outcome=\"bypass\"}", "catalog_cache_stale_sets_refused_total",
				"catalog_cache_loads_coalesced_total", "catalog_cache_invalidations_failed_total",
				"catalog_cache_invalidations_pending");
		assertThat(metrics).containsPattern("catalog_cache_lookups_total\\{outcome=\"hit\"} [1-9]");
	}

	@Test
	void exposesNoOtherActuatorEndpoints() {
		this.http.get().uri("/actuator/health").exchange().expectStatus().isOk();
		this.http.get().uri("/actuator/health/readiness").exchange().expectStatus().isOk();
		this.http.get().uri("/actuator/info").exchange().expectStatus().isOk();
		for (String hidden : new String[] { "env", "beans", "configprops", "heapdump", "threaddump", "loggers",
				"mappings", "metrics" }) {
			this.http.get().uri("/actuator/" + hidden).exchange().expectStatus().isNotFound();
		}
	}

}
