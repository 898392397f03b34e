package com.example.catalog.cache;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.ResourceLock;

import com.example.catalog.support.CacheAudits;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.ProcessOutput;
import com.example.catalog.support.RedisTopology;
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
 * The service on a Redis Cluster of three masters started by the test: every script
 * touches one key, so it runs on the node that owns the key's slot; when that slot moves
 * to another node (resharding), reads and writes stay correct. The full audit scans every
 * master.
 */
@IntegrationTest
@Order(5) // among the longest classes: started first (junit-platform.properties)
@ExtendWith(ProcessOutput.class)
// Counts the near cache's on-or-off lines, which ClusterTests and
// NearCacheAutoTests both write.
@ResourceLock(ProcessOutput.NEAR_CACHE_MODE_LINES)
class ClusterTests {

	private static final RedisTopology topology = RedisTopology.cluster();

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		topology.register(registry);
		TestEnvironment.relaxRedisTimeouts(registry);
		// The default: on a Cluster, the near cache stays off, said once.
		registry.add("catalog.cache.near.enabled", () -> "auto");
	}

	@Autowired
	private RestTestClient http;

	@Autowired
	private ProductKeys keys;

	@Autowired
	private StringRedisTemplate redis;

	@Autowired
	private JdbcTemplate jdbc;

	@Autowired
	private MeterRegistry meters;

	@LocalManagementPort
	private int managementPort;

	@AfterAll
	static void stopTopology() {
		topology.close();
	}

	@Test
	void theNearCacheStaysOffSaidOnceAtInfoAndReadsAreRedisHits(CapturedOutput output) {
		long id = TestProducts.create(this.http, "Not near", "8.00", 1);
		TestProducts.read(this.http, id);
		TestProducts.awaitCacheHit(this.http, id);
		TestProducts.read(this.http, id);
		assertThat(this.meters.get("catalog.cache.lookups").tag("outcome", "near_hit").counter().count())
			.as("near hits")
			.isZero();
		await().atMost(Duration.ofSeconds(5))
			.until(() -> output.getAll()
				.contains(
						"Near cache off (CACHE_NEAR_ENABLED=auto): it needs a standalone or Sentinel Redis, not a Cluster"));
		assertThat(output.getAll()).containsOnlyOnce("it needs a standalone or Sentinel Redis, not a Cluster")
			.doesNotContain("The near cache stays off");
	}

	@Test
	void cachesInvalidatesAndFollowsAKeyWhoseSlotMovesToAnotherNode() {
		long id = TestProducts.create(this.http, "Clustered", "8.00", 1);
		TestProducts.read(this.http, id);
		TestProducts.awaitCacheHit(this.http, id);
		TestProducts.update(this.http, id, "{\"price\": 9.00}");
		assertThat(TestProducts.read(this.http, id).getResponseBody()).containsEntry("version", 1);
		TestProducts.awaitCacheHit(this.http, id);

		moveSlotOf(this.keys.key(id));

		TestProducts.awaitCacheHit(this.http, id);
		assertThat(TestProducts.read(this.http, id).getResponseBody()).containsEntry("version", 1);
		TestProducts.update(this.http, id, "{\"price\": 10.00}");
		assertThat(TestProducts.read(this.http, id).getResponseBody()).containsEntry("version", 2);
		this.http.delete().uri("/products/{id}", id).exchange().expectStatus().isNoContent();
		this.http.get().uri("/products/{id}", id).exchange().expectStatus().isNotFound();
	}

	/**
	 * A batch's HMGETs go to the nodes that own their keys' slots, all sent before any
	 * answer is awaited: a cold batch is filled on every master, a warm one is all hits.
	 */
	@Test
	void readsABatchWhoseKeysLiveOnSeveralNodes() {
		List<Long> ids = new ArrayList<>();
		for (int i = 0; i < 20; i++) {
			ids.add(TestProducts.create(this.http, "Clustered batch " + i, "8.00", 1));
		}
		String asked = ids.stream().map(Object::toString).collect(Collectors.joining(","));

		this.http.get()
			.uri("/products?ids={ids}", asked)
			.exchange()
			.expectStatus()
			.isOk()
			.expectHeader()
			.valueEquals("X-Cache-Counts", "hit=0, miss=20, bypass=0");
		assertThat(mastersHoldingKeysOf(ids)).as("masters holding the batch's keys").isGreaterThan(1);

		Map<String, Object> body = this.http.get()
			.uri("/products?ids={ids}", asked)
			.exchange()
			.expectStatus()
			.isOk()
			.expectHeader()
			.valueEquals("X-Cache", "HIT")
			.expectHeader()
			.valueEquals("X-Cache-Counts", "hit=20, miss=0, bypass=0")
			.expectBody(TestProducts.JSON_OBJECT)
			.returnResult()
			.getResponseBody();
		@SuppressWarnings("unchecked")
		List<Map<String, Object>> items = (List<Map<String, Object>>) body.get("items");
		assertThat(items).extracting((item) -> ((Number) item.get("id")).longValue()).containsExactlyElementsOf(ids);
	}

	/**
	 * The change feed marks a batch's products on the nodes that own their keys, all sent
	 * before any answer is awaited.
	 */
	@Test
	void aChangeMadeOutsideTheServiceIsServedFromEveryNode() {
		List<Long> ids = new ArrayList<>();
		for (int i = 0; i < 20; i++) {
			long id = TestProducts.create(this.http, "Changed elsewhere " + i, "8.00", 1);
			TestProducts.read(this.http, id);
			TestProducts.awaitCacheHit(this.http, id);
			ids.add(id);
		}
		assertThat(mastersHoldingKeysOf(ids)).as("masters holding the products' keys").isGreaterThan(1);

		double deferredBefore = deferredInvalidations();
		String changed = ids.stream().map(Object::toString).collect(Collectors.joining(","));
		this.jdbc.update("UPDATE products SET price_cents = 1234 WHERE id IN (" + changed + ")");

		for (long id : ids) {
			await().atMost(Duration.ofSeconds(5))
				.untilAsserted(() -> assertThat(TestProducts.read(this.http, id).getResponseBody().get("price"))
					.hasToString("12.34"));
		}
		assertThat(deferredInvalidations()).as("invalidations Redis did not take").isEqualTo(deferredBefore);
	}

	private double deferredInvalidations() {
		return this.meters.get("catalog.cache.invalidations_failed").counter().count();
	}

	private int mastersHoldingKeysOf(List<Long> ids) {
		Set<Integer> nodes = new HashSet<>();
		for (long id : ids) {
			String slot = RedisTopology.cli(topology.serverPorts().get(0), "CLUSTER", "KEYSLOT", this.keys.key(id))
				.trim();
			nodes.add(topology.serverPorts()
				.stream()
				// Only a slot's owner holds its keys (others' keys may share the slot).
				.filter((port) -> RedisTopology.cli(port, "CLUSTER", "COUNTKEYSINSLOT", slot)
					.trim()
					.matches("[1-9][0-9]*"))
				.findFirst()
				.orElseThrow());
		}
		return nodes.size();
	}

	@Test
	void theFullAuditScansEveryMasterAndRepairsWhatIsStale() {
		List<Long> planted = new ArrayList<>();
		List<CacheAudits.Entry> replaced = new ArrayList<>();
		for (int i = 0; i < 12; i++) {
			long id = TestProducts.create(this.http, "Clustered " + i, "8.00", 1);
			TestProducts.read(this.http, id);
			if (i % 2 == 0) {
				replaced.add(CacheAudits.entry(this.redis, this.keys.key(id)));
				TestProducts.update(this.http, id, "{\"price\": 9.00}");
				planted.add(id);
			}
		}
		replaced.forEach((entry) -> CacheAudits.plant(this.jdbc, this.redis, entry));
		assertThat(topology.serverPorts()
			.stream()
			.filter((port) -> Long.parseLong(RedisTopology.cli(port, "DBSIZE").trim()) > 0)).as("masters holding keys")
			.hasSizeGreaterThan(1);

		Map<String, Object> report = CacheAudits.fullAudit(TestEnvironment.management(this.managementPort));

		assertThat(report).containsEntry("state", "finished");
		assertThat(((Number) report.get("keys_scanned")).longValue()).isGreaterThanOrEqualTo(12);
		assertThat(((Number) report.get("stale")).longValue()).isEqualTo(planted.size());
		assertThat(((Number) report.get("consistent")).longValue()).isGreaterThanOrEqualTo(6);
		for (long id : planted) {
			assertThat(TestProducts.read(this.http, id).getResponseBody()).containsEntry("version", 1);
		}
	}

	/** Moves the key's slot, with its keys, to another master, as resharding does. */
	private static void moveSlotOf(String key) {
		List<Integer> ports = topology.serverPorts();
		String slot = RedisTopology.cli(ports.get(0), "CLUSTER", "KEYSLOT", key).trim();
		int source = ports.stream()
			.filter((port) -> RedisTopology.cli(port, "CLUSTER", "COUNTKEYSINSLOT", slot).trim().equals("1"))
			.findFirst()
			.orElseThrow();
		int target = ports.stream().filter((port) -> port != source).findFirst().orElseThrow();
		String sourceId = RedisTopology.cli(source, "CLUSTER", "MYID").trim();
		String targetId = RedisTopology.cli(target, "CLUSTER", "MYID").trim();
		RedisTopology.cli(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", sourceId);
		RedisTopology.cli(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", targetId);
		String moved = RedisTopology.cli(source, "MIGRATE", "127.0.0.1", Integer.toString(target), "", "0", "5000",
				"KEYS", key);
		assertThat(moved.trim()).isEqualTo("OK");
		for (int port : ports) {
			RedisTopology.cli(port, "CLUSTER", "SETSLOT", slot, "NODE", targetId);
		}
		assertThat(RedisTopology.cli(target, "CLUSTER", "COUNTKEYSINSLOT", slot).trim()).isEqualTo("1");
	}

}
