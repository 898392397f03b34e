package com.example.catalog.cache;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.ProcessOutput;
import com.example.catalog.support.RedisFaultProxy;
import com.example.catalog.support.RunsAlone;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestRedis;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The service started while no Redis answers at its address: it serves, says so once, and
 * caches once Redis appears.
 */
@IntegrationTest
@ExtendWith(ProcessOutput.class)
@RunsAlone // it counts lines in the whole process's output
class RedisMissingAtStartTests {

	private static final String OTHER_CONTEXT_SHUTDOWN = "Failed to submit a listener notification task. Event loop shut down?";

	private static final RedisFaultProxy proxy = refusingProxy();

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry, "127.0.0.1", proxy.port());
	}

	@AfterAll
	static void closeProxy() {
		proxy.close();
	}

	@Test
	void servesUncachedSaysSoOnceAndCachesWhenRedisAppears(@Autowired RestTestClient http, CapturedOutput output) {
		String id = http.post()
			.uri("/products")
			.contentType(MediaType.APPLICATION_JSON)
			.body("""
					{"name": "Radio", "price": 45.00, "stock_quantity": 2}""")
			.exchange()
			.expectStatus()
			.isCreated()
			.expectBody(String.class)
			.returnResult()
			.getResponseHeaders()
			.getLocation()
			.getPath()
			.replace("/products/", "");
		for (int i = 0; i < 20; i++) {
			http.get()
				.uri("/products/{id}", id)
				.exchange()
				.expectStatus()
				.isOk()
				.expectHeader()
				.valueMatches("X-Cache", "BYPASS|GUTTER");
		}
		http.get().uri("/health").exchange().expectStatus().isOk().expectBody().jsonPath("$.cache").isEqualTo("down");

		// Said once, at start-up, and not again per request; no stack traces.
		assertThat(String.join("", logRecords(output.getAll()))).containsOnlyOnce("Redis is unavailable");
		assertThat(logRecords(output.getAll())).isNotEmpty().noneMatch((record) -> record.contains("\tat "));

		proxy.pass();
		await().atMost(Duration.ofSeconds(5))
			.pollInterval(Duration.ofMillis(100))
			.untilAsserted(
					() -> http.get().uri("/products/{id}", id).exchange().expectHeader().valueEquals("X-Cache", "HIT"));
		assertThat(String.join("", logRecords(output.getAll()))).containsOnlyOnce("Redis is reachable again");
	}

	/**
	 * This context's log records (each with the lines that follow it), from its start-up
	 * on: before it, Spring may close an older test context, whose last try at its kept
	 * invalidations finds that context's Redis gone. Netty's event loop refusing a task
	 * as another context shuts down is left out too.
	 */
	private static List<String> logRecords(String output) {
		int start = output.indexOf("Starting " + RedisMissingAtStartTests.class.getSimpleName());
		return Arrays.stream(output.substring(Math.max(start, 0)).split("(?m)^(?=\\d{4}-\\d{2}-\\d{2}T)"))
			.filter((record) -> !record.contains(OTHER_CONTEXT_SHUTDOWN))
			.toList();
	}

	private static RedisFaultProxy refusingProxy() {
		RedisFaultProxy refusing = RedisFaultProxy.start(TestRedis.host(), TestRedis.port());
		refusing.refuse();
		return refusing;
	}

}
