package com.example.catalog.product;

import org.junit.jupiter.api.Order;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The change feed on SQLite: an outside writer is another connection to the file. */
@IntegrationTest
@Order(4) // among the longest classes: started first (junit-platform.properties)
class ChangeFeedOnSqliteTests extends ChangeFeedTests {

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
		registry.add("catalog.feed.max-lag", () -> "1s");
	}

}
