package com.example.catalog.cache;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.ResourceLock;

import com.example.catalog.support.DedicatedRedis;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.ProcessOutput;
import com.example.catalog.support.SecondInstance;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.core.env.Environment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code CACHE_NEAR_ENABLED=auto}, the default, where Redis cannot tell an instance about
 * every change: the near cache stays off, said once at INFO, and reads are Redis hits.
 * With {@code true} the same Redis gets a warning instead. (Where Redis can, {@code auto}
 * turns it on: NearCacheTests, CacheStormTests and SentinelFailoverTests run it so; on a
 * Cluster it stays off: ClusterTests.)
 */
@IntegrationTest
@Order(2) // among the longest classes: started first (junit-platform.properties)
@TestPropertySource(properties = "catalog.cache.near.enabled=auto")
@ExtendWith(ProcessOutput.class)
// Counts the near cache's on-or-off lines, which ClusterTests and
// NearCacheAutoTests both write.
@ResourceLock(ProcessOutput.NEAR_CACHE_MODE_LINES)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NearCacheAutoTests {

	private static final String ACL_USER = "catalog-no-tracking";

	private static final String ACL_PASSWORD = "catalog-no-tracking-s3cret";

	/**
	 * A Redis that does not know HELLO, as before Redis 6: Lettuce speaks RESP2 to it.
	 */
	private static final DedicatedRedis resp2 = DedicatedRedis.start(folder("near-auto-resp2-"),
			(folder, port) -> List.of("--port", Integer.toString(port), "--rename-command", "HELLO", ""));

	/** A Redis whose user may do anything but enable tracking. */
	private static final DedicatedRedis noTracking = DedicatedRedis.start(folder("near-auto-acl-"),
			(folder, port) -> List.of("--port", Integer.toString(port), "--user", ACL_USER, "on", ">" + ACL_PASSWORD,
					"~*", "&*", "+@all", "-client|tracking"));

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry, resp2.host(), resp2.port());
	}

	@Autowired
	private RestTestClient http;

	@Autowired
	private MeterRegistry meters;

	@AfterAll
	static void stopRedis() {
		resp2.close();
		noTracking.close();
	}

	@Test
	// First: the output holds this context's start-up and nothing else of this class.
	@Order(1)
	void onARedisThatAnswersOnlyInResp2ItStaysOffSaysSoOnceAtInfoAndServesRedisHits(CapturedOutput output) {
		assertRedisHitsOnly(this.http, this.meters);
		await().atMost(Duration.ofSeconds(5))
			.until(() -> lines(output,
					"INFO .*Near cache off \\(CACHE_NEAR_ENABLED=auto\\): Redis answers in RESP2") == 1);
		// Given up for good: the heartbeat does not try again.
		sleep(3 * NearCache.HEARTBEAT.toMillis());
		assertThat(lines(output, "Redis answers in RESP2")).isEqualTo(1);
		assertThat(lines(output, "WARN .*The near cache stays off")).isZero();
	}

	@Test
	@Order(2)
	void whereRedissUserMayNotEnableTrackingItStaysOffSaysSoOnceAtInfoAndServesRedisHits(
			@Autowired Environment environment, CapturedOutput output) {
		try (SecondInstance instance = SecondInstance.sharing(environment,
				"spring.data.redis.host=" + noTracking.host(), "spring.data.redis.port=" + noTracking.port(),
				"spring.data.redis.username=" + ACL_USER, "spring.data.redis.password=" + ACL_PASSWORD,
				"catalog.cache.near.enabled=auto")) {
			assertRedisHitsOnly(instance.http(), instance.context().getBean(MeterRegistry.class));
			await().atMost(Duration.ofSeconds(5))
				.until(() -> lines(output,
						"INFO .*Near cache off \\(CACHE_NEAR_ENABLED=auto\\): Redis's user may not enable tracking "
								+ "\\(NOPERM") == 1);
			// Given up for good: the heartbeat does not try again.
			sleep(3 * NearCache.HEARTBEAT.toMillis());
			assertThat(lines(output, "Redis's user may not enable tracking")).isEqualTo(1);
			assertThat(lines(output, "WARN .*The near cache stays off")).isZero();
		}
	}

	@Test
	@Order(3)
	void withTrueOnARedisThatCannotItWarnsOnce(@Autowired Environment environment, CapturedOutput output) {
		try (SecondInstance instance = SecondInstance.sharing(environment, "catalog.cache.near.enabled=true")) {
			await().atMost(Duration.ofSeconds(5))
				.until(() -> lines(output, "WARN .*The near cache stays off: Redis answers in RESP2") == 1);
			assertRedisHitsOnly(instance.http(), instance.context().getBean(MeterRegistry.class));
			assertThat(lines(output, "WARN .*The near cache stays off")).isEqualTo(1);
		}
	}

	/** Reads of a product are Redis's hits; none is a near hit, and nothing listens. */
	private static void assertRedisHitsOnly(RestTestClient http, MeterRegistry meters) {
		long id = TestProducts.create(http, "Plain hit", "3.00", 1);
		TestProducts.read(http, id);
		TestProducts.awaitCacheHit(http, id);
		for (int i = 0; i < 5; i++) {
			TestProducts.read(http, id);
		}
		assertThat(meters.get("catalog.cache.lookups").tag("outcome", "near_hit").counter().count()).as("near hits")
			.isZero();
		assertThat(meters.get("catalog.cache.lookups").tag("outcome", "hit").counter().count()).as("Redis hits")
			.isGreaterThanOrEqualTo(5);
		assertThat(meters.get("catalog.cache.near.listening").gauge().value()).as("near cache listening").isZero();
	}

	private static int lines(CapturedOutput output, String regex) {
		Matcher matcher = Pattern.compile("(?m)^.*" + regex + ".*$").matcher(output.getAll());
		int count = 0;
		while (matcher.find()) {
			count++;
		}
		return count;
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private static Path folder(String prefix) {
		try {
			return Files.createTempDirectory(prefix);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
