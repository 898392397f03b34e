package com.example.catalog.cache;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.RedisTopology;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.EntityExchangeResult;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Replication is asynchronous: the master can acknowledge a write's marker and be lost
 * before its replica received it. The replica promoted by Sentinel then still holds the
 * entry the marker replaced; reads must not be answered from it. Production timeouts.
 */
@IntegrationTest
class SentinelMarkerLossTests {

	private static final RedisTopology topology = RedisTopology.sentinel();

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		topology.register(registry);
	}

	@Autowired
	private RestTestClient http;

	@Autowired
	private ProductKeys keys;

	@AfterAll
	static void stopTopology() {
		topology.close();
	}

	@Test
	void aReadAfterAFailOverNeverReturnsAVersionOlderThanAnAcknowledgedWrite() {
		long id = TestProducts.create(this.http, "Replicated", "5.00", 1);
		TestProducts.read(this.http, id);
		TestProducts.awaitCacheHit(this.http, id);
		int master = topology.serverPorts().get(0);
		int replica = topology.serverPorts().get(1);
		await().atMost(Duration.ofSeconds(10))
			.until(() -> RedisTopology.cli(replica, "HGET", this.keys.key(id), "state").trim().equals("value"));

		// The replica stops receiving anything, as a lagging or cut-off replica would.
		topology.replicationLink().silenceLiveConnections();
		TestProducts.update(this.http, id, "{\"price\": 6.00}");
		assertThat(TestProducts.read(this.http, id).getResponseBody()).containsEntry("version", 1);
		assertThat(RedisTopology.cli(replica, "HGET", this.keys.key(id), "version").trim())
			.as("the replica missed the marker")
			.isEqualTo("0");

		topology.kill(master);
		await().atMost(Duration.ofSeconds(20))
			.pollInterval(Duration.ofMillis(200))
			.until(() -> topology.currentMasterPort() == replica);

		// Read until the product is served from the cache of the new master again.
		List<String> answers = new ArrayList<>();
		await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
			EntityExchangeResult<Map<String, Object>> read = TestProducts.read(this.http, id);
			String cache = read.getResponseHeaders().getFirst("X-Cache");
			answers.add(cache + " v" + read.getResponseBody().get("version"));
			return "HIT".equals(cache);
		});
		assertThat(answers).as("answers after the fail-over").allMatch((answer) -> answer.endsWith(" v1"));
	}

}
