package com.example.catalog.cache;

import java.io.File;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

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
 * service caches. Uses a {@code redis-server} of its own, since the shared test Redis has
 * none.
 */
@IntegrationTest
class RedisPasswordTests {

	private static final String PASSWORD = "s3cret-redis";

	private static Process redis;

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) throws Exception {
		Optional<Path> server = onPath("redis-server");
		Assumptions.assumeTrue(server.isPresent(), "redis-server is not on PATH: no Redis with a password to test");
		int port;
		try (ServerSocket socket = new ServerSocket(0)) {
			port = socket.getLocalPort();
		}
		Path folder = Files.createTempDirectory("catalog-redis-auth-");
		redis = new ProcessBuilder(server.get().toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
				"--requirepass", PASSWORD, "--save", "", "--appendonly", "no", "--dir", folder.toString())
			.redirectErrorStream(true)
			.redirectOutput(folder.resolve("redis.log").toFile())
			.start();
		TestEnvironment.register(registry, "127.0.0.1", port);
		registry.add("spring.data.redis.password", () -> PASSWORD);
	}

	@AfterAll
	static void stopRedis() {
		if (redis != null) {
			redis.destroy();
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

	private static Optional<Path> onPath(String name) {
		return Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
			.map((folder) -> Path.of(folder, name))
			.filter(Files::isExecutable)
			.findFirst();
	}

}
