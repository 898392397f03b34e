package com.example.catalog.cache;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.example.catalog.support.DedicatedRedis;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.ProcessOutput;
import com.example.catalog.support.TestCertificates;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code REDIS_SSL} against Redis servers that speak only TLS, with certificates from a
 * private CA: the service caches when {@code REDIS_SSL_CA} names that CA (and, for a
 * Redis that asks for one, {@code REDIS_SSL_CERT} and {@code REDIS_SSL_KEY} give a client
 * certificate), and serves uncached when it cannot trust the server.
 */
@IntegrationTest
// It reads the captured output for a line that only a Redis with TLS the service
// cannot trust causes, so other classes may run beside it.
class RedisTlsTests {

	private static final Path certificates = TestCertificates.create();

	private static DedicatedRedis serverOnlyTls;

	private static DedicatedRedis mutualTls;

	@AfterAll
	static void stopRedis() {
		if (serverOnlyTls != null) {
			serverOnlyTls.close();
		}
		if (mutualTls != null) {
			mutualTls.close();
		}
	}

	@Nested
	@DirtiesContext
	class TrustingThePrivateCa {

		// The production timeouts: a handshake slower than them would show here.
		@DynamicPropertySource
		static void environment(DynamicPropertyRegistry registry) {
			DedicatedRedis redis = serverOnlyTls();
			TestEnvironment.register(registry, redis.host(), redis.port());
			registry.add("REDIS_SSL", () -> "true");
			registry.add("REDIS_SSL_CA", () -> certificates.resolve("ca.crt").toString());
		}

		@Test
		void cachesOverTls(@Autowired RestTestClient http) {
			assertCaches(http);
		}

	}

	@Nested
	@DirtiesContext
	class WithAClientCertificate {

		@DynamicPropertySource
		static void environment(DynamicPropertyRegistry registry) {
			DedicatedRedis redis = mutualTls();
			TestEnvironment.register(registry, redis.host(), redis.port());
			TestEnvironment.relaxRedisTimeouts(registry);
			registry.add("REDIS_SSL", () -> "true");
			registry.add("REDIS_SSL_CA", () -> certificates.resolve("ca.crt").toString());
			registry.add("REDIS_SSL_CERT", () -> certificates.resolve("client.crt").toString());
			registry.add("REDIS_SSL_KEY", () -> certificates.resolve("client.key").toString());
		}

		@Test
		void cachesOverMutualTls(@Autowired RestTestClient http) {
			assertCaches(http);
		}

	}

	@Nested
	@DirtiesContext
	@ExtendWith(ProcessOutput.class)
	class NotTrustingTheServer {

		// No REDIS_SSL_CA: the JVM's trusted CAs do not vouch for the test CA.
		@DynamicPropertySource
		static void environment(DynamicPropertyRegistry registry) {
			DedicatedRedis redis = serverOnlyTls();
			TestEnvironment.register(registry, redis.host(), redis.port());
			TestEnvironment.relaxRedisTimeouts(registry);
			registry.add("REDIS_SSL", () -> "true");
		}

		@Test
		void servesUncachedAndSaysWhy(@Autowired RestTestClient http, CapturedOutput output) {
			long id = TestProducts.create(http, "Padlock", "12.50", 4);

			for (int i = 0; i < 3; i++) {
				http.get()
					.uri("/products/{id}", id)
					.exchange()
					.expectStatus()
					.isOk()
					.expectHeader()
					// The first read goes to the database, the next ones may come from
					// the gutter: neither from Redis.
					.value("X-Cache", (source) -> assertThat(source).isIn("BYPASS", "GUTTER"))
					.expectBody()
					.jsonPath("$.name")
					.isEqualTo("Padlock");
			}
			http.get().uri("/health").exchange().expectBody().jsonPath("$.cache").isEqualTo("down");
			assertThat(output.getAll())
				.contains("Redis is unavailable (unable to find valid certification path to requested target)");
		}

	}

	private static void assertCaches(RestTestClient http) {
		long id = TestProducts.create(http, "Padlock", "12.50", 4);

		TestProducts.awaitCacheHit(http, id);
		http.get().uri("/health").exchange().expectBody().jsonPath("$.cache").isEqualTo("up");
	}

	private static synchronized DedicatedRedis serverOnlyTls() {
		if (serverOnlyTls == null) {
			serverOnlyTls = startTlsRedis("no");
		}
		return serverOnlyTls;
	}

	private static synchronized DedicatedRedis mutualTls() {
		if (mutualTls == null) {
			mutualTls = startTlsRedis("yes");
		}
		return mutualTls;
	}

	// TLS only (--port 0), so a client that fell back to plain text would get nothing.
	private static DedicatedRedis startTlsRedis(String authClients) {
		Assumptions.assumeTrue(DedicatedRedis.available(),
				"Neither redis-server on PATH nor Docker: no Redis of this test's own to serve TLS");
		return DedicatedRedis.start(certificates,
				(folder, port) -> List.of("--port", "0", "--tls-port", Integer.toString(port), "--tls-cert-file",
						folder + "/server.crt", "--tls-key-file", folder + "/server.key", "--tls-ca-cert-file",
						folder + "/ca.crt", "--tls-auth-clients", authClients));
	}

}
