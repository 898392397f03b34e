package com.example.catalog.cache;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.FailoverLoad;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.RedisTopology;
import com.example.catalog.support.RunsAlone;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The service on a Redis Cluster of three masters with a replica each, started by the
 * test, while the master holding a product is killed under concurrent reads and writes:
 * its replica takes over the master's slots. Production timeouts.
 */
@IntegrationTest
@RunsAlone // it times every request against 1 s while a master dies
class ClusterFailoverTests {

	private static final RedisTopology topology = RedisTopology.cluster(1);

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		topology.register(registry);
	}

	@Autowired
	private RestTestClient http;

	@Autowired
	private ProductKeys keys;

	@LocalServerPort
	private int port;

	@AfterAll
	static void stopTopology() {
		topology.close();
	}

	@Test
	void killingAMasterCostsNoErrorsNoSlowRequestsAndCachingResumesOnThePromotedReplica() throws Exception {
		List<Long> ids = TestProducts.createAndRead(this.http, "Clustered", "5.00", 20);
		TestProducts.awaitCacheHit(this.http, ids.get(0));
		String key = this.keys.key(ids.get(0));
		int master = topology.clusterMasterPorts()
			.stream()
			.filter((port) -> RedisTopology.cli(port, "EXISTS", key).trim().equals("1"))
			.findFirst()
			.orElseThrow();

		FailoverLoad load = FailoverLoad.start(this.port, ids, 4);
		Thread.sleep(1000);
		topology.kill(master);
		long killed = System.nanoTime();
		await().atMost(Duration.ofSeconds(10))
			.pollInterval(Duration.ofMillis(100))
			.until(() -> topology.clusterMasterPorts().size() == 3 && load.isCacheHit(ids.get(0)));
		System.out.printf("CLUSTER: caching resumed on the promoted replica %d ms after the master was killed%n",
				TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed));
		Thread.sleep(2000);
		List<String> problems = load.stop();

		assertThat(problems).as("5xx, requests slower than 1 s, reads older than an acknowledged write").isEmpty();
		for (long id : ids) {
			assertThat(((Number) TestProducts.read(this.http, id).getResponseBody().get("version")).longValue())
				.isGreaterThanOrEqualTo(load.acknowledgedVersion(id));
		}
	}

}
