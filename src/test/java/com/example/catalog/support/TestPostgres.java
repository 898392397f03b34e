package com.example.catalog.support;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

import org.junit.jupiter.api.Assumptions;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * A real PostgreSQL for the tests of the PostgreSQL backend: {@code POSTGRES_TEST_URL} (a
 * JDBC URL with user and password in it) when set, a Testcontainers container when Docker
 * is there, otherwise the server on 127.0.0.1:5432 (database {@code test}, user
 * {@code postgres}, as on our CI machines). Null when none answers, so the caller can say
 * why it did not run.
 */
public final class TestPostgres {

	private static final String LOCAL = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";

	private static String url;

	private static boolean resolved;

	private TestPostgres() {
	}

	public static synchronized String jdbcUrl() {
		if (!resolved) {
			resolved = true;
			url = resolve();
		}
		return url;
	}

	private static String resolve() {
		String configured = System.getenv("POSTGRES_TEST_URL");
		if (configured != null && !configured.isBlank()) {
			return configured;
		}
		if (dockerAvailable()) {
			PostgreSQLContainer container = new PostgreSQLContainer("postgres:16-alpine");
			container.start();
			return container.getJdbcUrl() + "&user=" + container.getUsername() + "&password=" + container.getPassword();
		}
		try (Connection connection = DriverManager.getConnection(LOCAL)) {
			return LOCAL;
		}
		catch (SQLException ex) {
			return null;
		}
	}

	/** A schema name of its own for one test class. */
	public static String newSchemaName() {
		return "catalog_" + UUID.randomUUID().toString().substring(0, 8);
	}

	/**
	 * Registers a test context on PostgreSQL, in a schema of its own (Flyway creates it),
	 * with the rest of {@link TestEnvironment}; skips the class when no PostgreSQL
	 * answers.
	 */
	public static void register(DynamicPropertyRegistry registry, String schema) {
		TestEnvironment.register(registry);
		String url = jdbcUrl();
		Assumptions.assumeTrue(url != null, "No PostgreSQL reachable: set POSTGRES_TEST_URL, start Docker, "
				+ "or run PostgreSQL on 127.0.0.1:5432 with a database 'test' (user postgres)");
		registry.add("spring.datasource.url", () -> url + "&currentSchema=" + schema);
		registry.add("spring.flyway.default-schema", () -> schema);
	}

	/** Drops a schema made by {@link #register}. */
	public static void dropSchema(String schema) throws SQLException {
		if (jdbcUrl() != null) {
			try (Connection connection = DriverManager.getConnection(jdbcUrl());
					Statement statement = connection.createStatement()) {
				statement.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
			}
		}
	}

	private static boolean dockerAvailable() {
		try {
			return DockerClientFactory.instance().isDockerAvailable();
		}
		catch (Throwable ex) {
			return false;
		}
	}

}
