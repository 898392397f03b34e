package com.example.catalog.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * The settings every integration test context needs: its own SQLite file, its own Redis
 * key prefix (so contexts sharing one Redis never see each other's entries), Redis's
 * address, a random management port, and Hibernate statistics so tests can count database
 * statements.
 */
public final class TestEnvironment {

	private TestEnvironment() {
	}

	/** Registers a context that talks to the shared test Redis directly. */
	public static void register(DynamicPropertyRegistry registry) {
		register(registry, TestRedis.host(), TestRedis.port());
		relaxRedisTimeouts(registry);
	}

	/**
	 * A shared, loaded machine can take longer than the 250 ms defaults to answer or to
	 * finish a TLS handshake; tests that expect a hit must not see a bypass for that.
	 * Fault tests keep the defaults.
	 */
	public static void relaxRedisTimeouts(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.timeout", () -> "2s");
		registry.add("spring.data.redis.connect-timeout", () -> "2s");
	}

	/**
	 * Registers a context that talks to Redis at the given address (a fault proxy, say).
	 */
	public static void register(DynamicPropertyRegistry registry, String redisHost, int redisPort) {
		String run = UUID.randomUUID().toString().substring(0, 8);
		Path database = databaseFile(run);
		registry.add("spring.datasource.url", () -> "jdbc:sqlite:" + database);
		registry.add("spring.data.redis.host", () -> redisHost);
		registry.add("spring.data.redis.port", () -> redisPort);
		registry.add("catalog.cache.key-prefix", () -> "test-" + run + ":product:");
		registry.add("spring.jpa.properties.hibernate.generate_statistics", () -> "true");
		registry.add("management.server.port", () -> "0");
		// Tests read missing ids and refuse bodies at a rate no real client would; the
		// limits have their own tests.
		registry.add("catalog.api.not-found-per-second", () -> "0");
		registry.add("catalog.api.body-reads-per-client", () -> "1000");
		// The sampled audit (1 % of hits by default) reads the database in the
		// background, Δ after a hit: tests that count the statements a request made
		// would count it too. The audit's own tests turn it on.
		registry.add("catalog.cache.audit.sample", () -> "0");
	}

	/** A client for the management port (the actuator is not on the public port). */
	public static RestTestClient management(int managementPort) {
		return RestTestClient.bindToServer().baseUrl("http://localhost:" + managementPort).build();
	}

	private static Path databaseFile(String run) {
		try {
			Path folder = Files.createTempDirectory("catalog-test-");
			folder.toFile().deleteOnExit();
			return folder.resolve("data").resolve("catalog-" + run + ".db");
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
