package com.example.catalog.product;

import java.sql.SQLException;

import org.junit.jupiter.api.AfterAll;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestPostgres;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The change feed on PostgreSQL: an outside writer is another session, and LISTEN/NOTIFY
 * wakes the feed at its commit.
 */
@IntegrationTest
class ChangeFeedOnPostgresTests extends ChangeFeedTests {

	private static final String SCHEMA = TestPostgres.newSchemaName();

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestPostgres.register(registry, SCHEMA);
		registry.add("catalog.feed.max-lag", () -> "1s");
	}

	@AfterAll
	static void dropSchema() throws SQLException {
		TestPostgres.dropSchema(SCHEMA);
	}

}
