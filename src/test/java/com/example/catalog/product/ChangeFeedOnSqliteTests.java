package com.example.catalog.product;

import org.junit.jupiter.api.parallel.ResourceLock;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.ProcessOutput;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The change feed on SQLite: an outside writer is another connection to the file. */
@IntegrationTest
// One class at a time reads the captured output: two captures at once lose lines.
@ResourceLock(ProcessOutput.CHANGE_FEED_LINES)
class ChangeFeedOnSqliteTests extends ChangeFeedTests {

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
		registry.add("catalog.feed.max-lag", () -> "1s");
	}

}
