package com.example.catalog.cache;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.example.catalog.support.CacheAudits;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.ProcessOutput;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The consistency auditor over HTTP against a real Redis and SQLite, every hit audited
 * ({@code CACHE_AUDIT_SAMPLE=1.0}): lost invalidations planted in Redis (the entry an
 * update replaced, written back after it, as a fail-over that drops a marker leaves it)
 * are counted stale, logged and repaired, by the sampled audit from product hits and list
 * page hits, and by the full audit on the management port.
 */
@IntegrationTest
@Order(5) // among the longest classes: started first (junit-platform.properties)
@ExtendWith(ProcessOutput.class)
class CacheAuditTests {

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
		registry.add("catalog.cache.audit.sample", () -> "1.0");
		registry.add("catalog.cache.audit.max-per-second", () -> "10000");
	}

	@Autowired
	private RestTestClient http;

	@Autowired
	private StringRedisTemplate redis;

	@Autowired
	private JdbcTemplate jdbc;

	@Autowired
	private ProductKeys keys;

	@Autowired
	private CacheProperties cacheProperties;

	@LocalManagementPort
	private int managementPort;

	private RestTestClient management;

	@BeforeEach
	void connectToTheManagementPort() {
		this.management = TestEnvironment.management(this.managementPort);
	}

	/**
	 * Its products get ids no other class's products reach: a stale line names its
	 * product by id alone, and other classes' auditors write theirs to the same output.
	 */
	@BeforeEach
	void useIdsOfItsOwn() {
		this.jdbc.update("INSERT INTO sqlite_sequence (name, seq) SELECT 'products', 0 "
				+ "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'products')");
		this.jdbc.update("UPDATE sqlite_sequence SET seq = MAX(seq, 70000000) WHERE name = 'products'");
	}

	@Test
	void plantedLostInvalidationsAreCountedStaleAndServedFreshWithinFiveSeconds(CapturedOutput output) {
		double staleBefore = CacheAudits.sampled(this.management, "stale");
		List<Long> ids = new ArrayList<>();
		List<CacheAudits.Entry> replaced = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			// One read fills the cache (a miss: not audited); the update replaces the
			// entry with its marker.
			long id = TestProducts.create(this.http, "Planted " + i, "10.00", 1);
			TestProducts.read(this.http, id);
			replaced.add(CacheAudits.entry(this.redis, this.keys.key(id)));
			TestProducts.update(this.http, id, "{\"stock_quantity\": 2}");
			ids.add(id);
		}
		long planted = System.nanoTime();
		replaced.forEach((entry) -> CacheAudits.plant(this.jdbc, this.redis, entry));
		for (long id : ids) {
			assertThat(TestProducts.read(this.http, id).getResponseBody()).as("the lost invalidation is served")
				.containsEntry("version", 0);
		}

		for (long id : ids) {
			await().atMost(Duration.ofSeconds(5).minusNanos(System.nanoTime() - planted))
				.pollInterval(Duration.ofMillis(100))
				.until(() -> version(id) == 1);
		}
		await().atMost(Duration.ofSeconds(5))
			.untilAsserted(() -> assertThat(CacheAudits.sampled(this.management, "stale"))
				.isGreaterThanOrEqualTo(staleBefore + 5));
		for (long id : ids) {
			assertThat(output.getOut()).containsPattern("CACHE AUDIT STALE: product " + id
					+ ": the cache served version 0 while the database holds 1; .*; repaired");
		}
		Map<String, Object> health = auditHealth();
		assertThat(((Number) health.get("stale")).longValue()).isGreaterThanOrEqualTo(5);
		assertThat(health).containsKey("lastStale");
	}

	@Test
	void aPlantedDeletionIsRepairedToANotFound() {
		long id = TestProducts.create(this.http, "Deleted but planted", "3.00", 1);
		TestProducts.read(this.http, id);
		CacheAudits.Entry entry = CacheAudits.entry(this.redis, this.keys.key(id));
		this.http.delete().uri("/products/{id}", id).exchange().expectStatus().isNoContent();
		CacheAudits.plant(this.jdbc, this.redis, entry);
		TestProducts.read(this.http, id);

		await().atMost(Duration.ofSeconds(5))
			.pollInterval(Duration.ofMillis(100))
			.untilAsserted(() -> this.http.get().uri("/products/{id}", id).exchange().expectStatus().isNotFound());
	}

	@Test
	void aListPageHoldingAPlantedVersionIsCountedStaleAndRepaired() {
		String token = "page" + System.nanoTime();
		long id = TestProducts.create(this.http, "Paged " + token, "4.00", 1);
		String query = "q=" + token;
		TestProducts.read(this.http, id);
		// Else the feed's generation for the creation can start between the page's
		// caching and the reading of its generation below (seen on a loaded machine).
		CacheAudits.awaitEveryChangeApplied(this.jdbc);
		CacheAudits.Entry entry = CacheAudits.entry(this.redis, this.keys.key(id));
		TestProducts.list(this.http, query);
		String generationKey = this.cacheProperties.keyPrefix() + "generation";
		String generation = this.redis.opsForValue().get(generationKey);
		TestProducts.update(this.http, id, "{\"stock_quantity\": 5}");
		CacheAudits.plant(this.jdbc, this.redis, entry);
		// The update's new generation lost too (after the change feed's own), as a
		// fail-over could lose it: the page of version 0 is served again.
		this.redis.opsForValue().set(generationKey, generation);
		double staleBefore = CacheAudits.sampled(this.management, "stale");
		assertThat(itemVersion(query)).isZero();

		await().atMost(Duration.ofSeconds(5))
			.pollInterval(Duration.ofMillis(100))
			.untilAsserted(() -> assertThat(itemVersion(query)).isEqualTo(1));
		assertThat(CacheAudits.sampled(this.management, "stale")).isGreaterThan(staleBefore);
	}

	@Test
	void theFullAuditOnTheManagementPortFindsAndRepairsPlantedEntries() {
		List<Long> ids = new ArrayList<>();
		List<CacheAudits.Entry> replaced = new ArrayList<>();
		for (int i = 0; i < 3; i++) {
			long id = TestProducts.create(this.http, "Restored " + i, "7.00", 1);
			TestProducts.read(this.http, id);
			replaced.add(CacheAudits.entry(this.redis, this.keys.key(id)));
			TestProducts.update(this.http, id, "{\"price\": 8.00}");
			ids.add(id);
		}
		// Fresh entries beside them, which the audit must find consistent.
		for (int i = 0; i < 3; i++) {
			TestProducts.read(this.http, TestProducts.create(this.http, "Fresh " + i, "7.00", 1));
		}
		// Planted without a read after: only the full audit can find them.
		replaced.forEach((entry) -> CacheAudits.plant(this.jdbc, this.redis, entry));
		double fullStaleBefore = CacheAudits.metric(this.management,
				"catalog_cache_audit_total{audit=\"full\",result=\"stale\"}");

		Map<String, Object> report = CacheAudits.fullAudit(this.management);

		assertThat(report).containsEntry("state", "finished");
		assertThat(((Number) report.get("stale")).longValue()).isGreaterThanOrEqualTo(3);
		assertThat(((Number) report.get("repaired")).longValue()).isEqualTo(((Number) report.get("stale")).longValue());
		assertThat(((Number) report.get("consistent")).longValue()).isGreaterThanOrEqualTo(3);
		assertThat(((Number) report.get("keys_scanned")).longValue())
			.isGreaterThanOrEqualTo(((Number) report.get("checked")).longValue());
		assertThat(CacheAudits.metric(this.management, "catalog_cache_audit_total{audit=\"full\",result=\"stale\"}"))
			.isGreaterThanOrEqualTo(fullStaleBefore + 3);
		for (long id : ids) {
			assertThat(version(id)).as("product %d after the audit", id).isEqualTo(1);
		}
		assertThat(((Map<?, ?>) auditHealth().get("fullAudit")).get("state")).isEqualTo("finished");
	}

	@Test
	void theAuditIsOnHealthButNotOnReadiness() {
		assertThat(auditHealth()).containsKeys("sample", "consistent", "stale", "skippedForBudget", "fullAudit");
		this.management.get()
			.uri("/actuator/health/readiness")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.jsonPath("$.components.cacheAudit")
			.doesNotExist();
	}

	private long version(long id) {
		return ((Number) TestProducts.read(this.http, id).getResponseBody().get("version")).longValue();
	}

	@SuppressWarnings("unchecked")
	private long itemVersion(String query) {
		List<Map<String, Object>> items = (List<Map<String, Object>>) TestProducts.list(this.http, query)
			.getResponseBody()
			.get("items");
		assertThat(items).hasSize(1);
		return ((Number) items.get(0).get("version")).longValue();
	}

	@SuppressWarnings("unchecked")
	private Map<String, Object> auditHealth() {
		this.management.get()
			.uri("/actuator/health")
			.exchange()
			.expectBody()
			.jsonPath("$.components.cacheAudit.status")
			.isEqualTo("UP");
		Map<String, Object> health = this.management.get()
			.uri("/actuator/health/audit")
			.exchange()
			.expectBody(TestProducts.JSON_OBJECT)
			.returnResult()
			.getResponseBody();
		Map<String, Object> component = (Map<String, Object>) ((Map<String, Object>) health.get("components"))
			.get("cacheAudit");
		assertThat(component).containsEntry("status", "UP");
		return (Map<String, Object>) component.get("details");
	}

}
