package com.example.catalog.cache;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.DedicatedRedis;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * {@code REDIS_PASSWORD}, and {@code REDIS_USERNAME} for an ACL user, reach Redis:
 * against a Redis that requires them, the service caches. Uses a Redis of its own, since
 * the shared test Redis requires nothing.
 */
@IntegrationTest
class RedisAuthenticationTests {

	private static final String DEFAULT_USER_PASSWORD = "s3cret-redis";

	private static final String ACL_USER = "catalog";

	private static final String ACL_USER_PASSWORD = "catalog-s3cret";

	private static DedicatedRedis redis;

	@AfterAll
	static void stopRedis() {
		if (redis != null) {
			redis.close();
		}
	}

	@Nested
	@DirtiesContext
	class WithAPassword {

		@DynamicPropertySource
		static void environment(DynamicPropertyRegistry registry) {
			DedicatedRedis redis = redis();
			TestEnvironment.register(registry, redis.host(), redis.port());
			registry.add("REDIS_PASSWORD", () -> DEFAULT_USER_PASSWORD);
		}

		@Test
		void cachesWithThePassword(@Autowired RestTestClient http) {
			assertCaches(http);
		}

	}

	@Nested
	@DirtiesContext
	class AsAnAclUser {

		@DynamicPropertySource
		static void environment(DynamicPropertyRegistry registry) {
			DedicatedRedis redis = redis();
			TestEnvironment.register(registry, redis.host(), redis.port());
			registry.add("REDIS_USERNAME", () -> ACL_USER);
			registry.add("REDIS_PASSWORD", () -> ACL_USER_PASSWORD);
		}

		@Test
		void cachesAsThatUser(@Autowired RestTestClient http) {
			assertCaches(http);
		}

	}

	private static void assertCaches(RestTestClient http) {
		long id = TestProducts.create(http, "Lock", "9.00", 1);

		TestProducts.awaitCacheHit(http, id);
		http.get().uri("/health").exchange().expectBody().jsonPath("$.cache").isEqualTo("up");
	}

	// The default user needs a password; the ACL user has its own, and may only touch
	// the keys of test contexts.
	private static synchronized DedicatedRedis redis() {
		if (redis == null) {
			Assumptions.assumeTrue(DedicatedRedis.available(),
					"Neither redis-server on PATH nor Docker: no Redis of this test's own to require a password");
			try {
				redis = DedicatedRedis.start(Files.createTempDirectory("catalog-redis-auth-"),
						(folder, port) -> List.of("--port", Integer.toString(port), "--requirepass",
								DEFAULT_USER_PASSWORD, "--user", ACL_USER, "on", ">" + ACL_USER_PASSWORD, "~test-*",
								"+@all"));
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		}
		return redis;
	}

}
