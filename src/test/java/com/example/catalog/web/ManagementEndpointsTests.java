package com.example.catalog.web;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The actuator lives on its own port: the public port answers 404 for all of it, and the
 * management port exposes only health, info, prometheus and cacheaudit, without a
 * discovery page and without metric tags that name network peers.
 */
@IntegrationTest
class ManagementEndpointsTests {

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
		// Off by default (REDIS_COMMAND_METRICS); on here, so that the tags of its series
		// can be checked.
		registry.add("management.observations.enable.lettuce", () -> "true");
	}

	@Autowired
	private RestTestClient http;

	@LocalServerPort
	private int port;

	@LocalManagementPort
	private int managementPort;

	private RestTestClient management;

	@BeforeEach
	void connectToTheManagementPort() {
		assertThat(this.managementPort).isNotEqualTo(this.port);
		this.management = TestEnvironment.management(this.managementPort);
	}

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

		String metrics = prometheus();

		assertThat(metrics).contains("catalog_cache_lookups_total{outcome=\"hit\"}",
				"catalog_cache_lookups_total{outcome=\"miss\"}",
				"catalog_cache_lookups_total{outcome=\"negative_hit\"}",
				"catalog_cache_lookups_total{outcome=\"bypass\"}", "catalog_cache_stale_sets_refused_total",
				"catalog_cache_loads_coalesced_total", "catalog_cache_invalidations_failed_total",
				"catalog_cache_invalidations_pending");
		assertThat(metrics).containsPattern("catalog_cache_lookups_total\\{outcome=\"hit\"} [1-9]");
	}

	/**
	 * Lettuce's command observations tag every series with Redis's address and the
	 * client's ephemeral port: an address leak, and a new series per reconnect.
	 */
	@Test
	void metricsNameNoNetworkPeer() {
		this.http.get().uri("/products/987654321").exchange().expectStatus().isNotFound();

		String metrics = prometheus();

		assertThat(metrics).contains("lettuce");
		assertThat(metrics).doesNotContain("net_sock_peer", "peer_addr", "peer_port", "server_address", "server_port",
				"network_peer");
	}

	@Test
	void exposesOnlyHealthInfoPrometheusAndTheCacheAuditOnTheManagementPort() {
		this.management.get().uri("/actuator/health").exchange().expectStatus().isOk();
		this.management.get().uri("/actuator/cacheaudit").exchange().expectStatus().isOk();
		this.management.get().uri("/actuator/health/readiness").exchange().expectStatus().isOk();
		this.management.get().uri("/actuator/info").exchange().expectStatus().isOk();
		for (String hidden : new String[] { "env", "beans", "configprops", "heapdump", "threaddump", "loggers",
				"mappings", "metrics" }) {
			this.management.get().uri("/actuator/" + hidden).exchange().expectStatus().isNotFound();
		}
	}

	/** The links page echoed the Host header back; it is gone. */
	@Test
	void hasNoDiscoveryPage() {
		this.management.get()
			.uri("/actuator")
			.header("Host", "evil.example:666")
			.exchange()
			.expectStatus()
			.isNotFound();
	}

	@Test
	void publicPortHasNoActuatorAndOnlyTheSimpleHealthCheck() {
		for (String path : new String[] { "/actuator", "/actuator/health", "/actuator/health/readiness",
				"/actuator/info", "/actuator/prometheus", "/actuator/cacheaudit" }) {
			this.http.get().uri(path).exchange().expectStatus().isNotFound();
		}
		this.http.get()
			.uri("/health")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.jsonPath("$.status")
			.isEqualTo("ok");
	}

	/**
	 * The public probe says what X-Cache already tells every client (is the cache used?)
	 * and nothing more: no breaker state, addresses, versions or disk paths.
	 */
	@Test
	void publicHealthCheckTellsOnlyWhetherTheDatabaseAndTheCacheAnswer() {
		String body = this.http.get()
			.uri("/health")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody(String.class)
			.returnResult()
			.getResponseBody();
		assertThat(body).matches("\\{\"status\":\"ok\",\"database\":\"up\",\"cache\":\"(up|down)\"}");
	}

	private String prometheus() {
		return this.management.get()
			.uri("/actuator/prometheus")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody(String.class)
			.returnResult()
			.getResponseBody();
	}

}
