package com.example.catalog.cache;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.SecondInstance;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.core.env.Environment;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.bean.override.mockito.MockitoSpyBean;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doAnswer;

/**
 * Two instances of the service on one database and one Redis: this test's context (B,
 * whose cache fills the test can hold) and a second instance (A) that takes the writes.
 */
@IntegrationTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SeveralInstancesTests {

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
	}

	/** Real behaviour; a test may hold a load between its database read and its fill. */
	@MockitoSpyBean
	private ProductCache cache;

	@Autowired
	private RestTestClient http;

	@Autowired
	private MeterRegistry meters;

	private SecondInstance writer;

	private final ExecutorService threads = Executors.newCachedThreadPool();

	@BeforeAll
	void startSecondInstance(@Autowired Environment environment) {
		this.writer = SecondInstance.sharing(environment);
	}

	@AfterAll
	void stopSecondInstance() {
		this.writer.close();
		this.threads.shutdownNow();
	}

	@AfterEach
	void releaseHolds() {
		org.mockito.Mockito.reset(this.cache);
	}

	@Test
	void aReadNeverJoinsALoadOlderThanTheWriteItSawInRedis() throws Exception {
		long id = TestProducts.create(this.http, "Lantern", "18.00", 1);
		CountDownLatch loaded = new CountDownLatch(1);
		CountDownLatch release = new CountDownLatch(1);
		holdNextFillOf(id, loaded, release);

		// B starts a load of version 0 and is slow in its fill.
		Future<Map<String, Object>> first = this.threads.submit(() -> read(this.http, id));
		assertThat(loaded.await(10, TimeUnit.SECONDS)).isTrue();
		// A commits version 1 and replaces the entry with its marker.
		update(this.writer.http(), id, "{\"price\": 19.00}");
		// A new read on B sees that marker, and finds B's old load still running.
		double coalescedBefore = coalesced();
		Future<Map<String, Object>> second = this.threads.submit(() -> read(this.http, id));
		await().atMost(Duration.ofSeconds(10)).until(() -> coalesced() > coalescedBefore || second.isDone());
		release.countDown();

		assertThat(first.get(10, TimeUnit.SECONDS)).containsEntry("version", 0);
		assertThat(second.get(10, TimeUnit.SECONDS)).as("a read that started after A's write was acknowledged")
			.containsEntry("version", 1);
	}

	@Test
	void aWriteOnOneInstanceIsSeenByTheNextReadOnTheOther() {
		long id = TestProducts.create(this.writer.http(), "Kite", "12.00", 1);
		read(this.http, id);
		TestProducts.awaitCacheHit(this.http, id);
		for (int version = 1; version <= 5; version++) {
			update(this.writer.http(), id, "{\"stock_quantity\": %d}".formatted(100 + version));
			assertThat(read(this.http, id)).containsEntry("version", version);
		}
		this.writer.http().delete().uri("/products/{id}", id).exchange().expectStatus().isNoContent();
		this.http.get().uri("/products/{id}", id).exchange().expectStatus().isNotFound();
	}

	private void holdNextFillOf(long id, CountDownLatch loaded, CountDownLatch release) {
		AtomicBoolean held = new AtomicBoolean();
		doAnswer((call) -> {
			if (held.compareAndSet(false, true)) {
				loaded.countDown();
				release.await(10, TimeUnit.SECONDS);
			}
			return call.callRealMethod();
		}).when(this.cache).put(eq(id), anyLong(), any());
	}

	private static Map<String, Object> read(RestTestClient http, long id) {
		return TestProducts.read(http, id).getResponseBody();
	}

	private static void update(RestTestClient http, long id, String body) {
		http.put()
			.uri("/products/{id}", id)
			.contentType(MediaType.APPLICATION_JSON)
			.body(body)
			.exchange()
			.expectStatus()
			.isOk();
	}

	private double coalesced() {
		return this.meters.get("catalog.cache.loads_coalesced").counter().count();
	}

}
