package com.example.catalog.cache;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.DedicatedRedis;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.awaitility.Awaitility.await;

/**
 * {@code REDIS_PASSWORD} reaches Redis: against a Redis that requires a password, the
 * service caches. Uses a Redis of its own, since the shared test Redis has none.
 */
@IntegrationTest
class RedisPasswordTests {

	private static final String PASSWORD = "s3cret-redis";

	private static DedicatedRedis redis;

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) throws Exception {
		Assumptions.assumeTrue(DedicatedRedis.available(),
				"Neither redis-server on PATH nor Docker: no Redis of this test's own to require a password");
		redis = DedicatedRedis.start(Files.createTempDirectory("catalog-redis-auth-"),
				(folder, port) -> List.of("--port", Integer.toString(port), "--requirepass", PASSWORD));
		TestEnvironment.register(registry, redis.host(), redis.port());
		registry.add("REDIS_PASSWORD", () -> PASSWORD);
	}

	@AfterAll
	static void stopRedis() {
		if (redis != null) {
			redis.close();
		}
	}

	@Test
	void cachesWithThePassword(@Autowired RestTestClient http) {
		long id = TestProducts.create(http, "Lock", "9.00", 1);

		await().atMost(Duration.ofSeconds(10))
			.pollInterval(Duration.ofMillis(200))
			.untilAsserted(
					() -> http.get().uri("/products/{id}", id).exchange().expectHeader().valueEquals("X-Cache", "HIT"));
		http.get().uri("/health").exchange().expectBody().jsonPath("$.cache").isEqualTo("up");
	}

}
