package com.example.catalog.cache;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.MeterRegistry;
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
 * The service on Redis Sentinel (one master, one replica, three sentinels started by the
 * test) while the master is killed under concurrent reads and writes. Production
 * timeouts.
 */
@IntegrationTest
@RunsAlone // it times every request against 1 s while a master dies
class SentinelFailoverTests {

	private static final RedisTopology topology = RedisTopology.sentinel();

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		topology.register(registry);
		registry.add("catalog.cache.audit.sample", () -> "1.0");
		registry.add("catalog.cache.audit.max-per-second", () -> "100000");
		// The default, on a Sentinel: the near cache on, its hits audited too.
		registry.add("catalog.cache.near.enabled", () -> "auto");
	}

	/** Every hit is audited: the fail-over must not make the auditor count one stale. */
	@Autowired
	private CacheAuditor auditor;

	@Autowired
	private RestTestClient http;

	@Autowired
	private MeterRegistry meters;

	@LocalServerPort
	private int port;

	@AfterAll
	static void stopTopology() {
		topology.close();
	}

	@Test
	void killingTheMasterCostsNoErrorsNoSlowRequestsAndCachingResumesOnTheNewMaster() throws Exception {
		List<Long> ids = TestProducts.createAndRead(this.http, "Sentinel", "5.00", 20);
		TestProducts.awaitCacheHit(this.http, ids.get(19));

		FailoverLoad load = FailoverLoad.start(this.port, ids, 4);
		Thread.sleep(1000);
		int oldMaster = topology.currentMasterPort();
		topology.kill(oldMaster);
		long killed = System.nanoTime();
		await().atMost(Duration.ofSeconds(10))
			.pollInterval(Duration.ofMillis(100))
			.until(() -> topology.currentMasterPort() != oldMaster && load.isCacheHit(ids.get(0)));
		System.out.printf("SENTINEL: caching resumed on the new master %d ms after the master was killed%n",
				TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed));
		Thread.sleep(2000);
		List<String> problems = load.stop();

		assertThat(problems).as("5xx, requests slower than 1 s, reads older than an acknowledged write").isEmpty();
		for (long id : ids) {
			long expected = load.acknowledgedVersion(id);
			assertThat(((Number) TestProducts.read(this.http, id).getResponseBody().get("version")).longValue())
				.isGreaterThanOrEqualTo(expected);
		}
		await().atMost(Duration.ofSeconds(30)).until(() -> this.auditor.checksUnderWay() == 0);
		System.out.printf("SENTINEL AUDIT: %s%n", this.auditor.counts());
		assertThat(this.auditor.counts().stale()).as("hits the auditor found stale").isZero();
		assertThat(this.auditor.counts().consistent()).as("hits audited").isPositive();
		assertThat(this.meters.get("catalog.cache.lookups").tag("outcome", "near_hit").counter().count())
			.as("near hits")
			.isPositive();
	}

}
