package com.example.catalog.cache;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.example.catalog.support.DirectRedis;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.ProcessOutput;
import com.example.catalog.support.RedisFaultProxy;
import com.example.catalog.support.SecondInstance;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;
import com.example.catalog.support.TestRedis;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.env.Environment;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Invalidations that Redis could not take when the write happened: they reach Redis as
 * soon as it answers again, whether or not the instance serves reads, and they only keep
 * their own products away from the cache meanwhile.
 */
@IntegrationTest
@Order(4) // among the longest classes: started first (junit-platform.properties)
@ExtendWith(ProcessOutput.class)
class PendingInvalidationTests {

	private static final RedisFaultProxy proxy = RedisFaultProxy.start(TestRedis.host(), TestRedis.port());

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry, "127.0.0.1", proxy.port());
		TestEnvironment.relaxRedisTimeouts(registry);
		// Bursts of 20 reads while the breaker is still open would go past the bulkhead
		// on the database reads (its own test: RedisDownProtectionTests); this class is
		// about the invalidations, so every read is let in, as before the bulkhead.
		registry.add("catalog.fallback.max-concurrent-reads", () -> "1000");
	}

	@Autowired
	private RestTestClient http;

	@Autowired
	private ProductKeys keys;

	@Autowired
	private MeterRegistry meters;

	@LocalServerPort
	private int port;

	private final StringRedisTemplate redis = DirectRedis.template();

	private final ExecutorService threads = Executors.newCachedThreadPool();

	@AfterEach
	void redisComesBack() {
		proxy.pass();
		this.threads.shutdownNow();
		await().atMost(Duration.ofSeconds(60))
			.pollInterval(Duration.ofMillis(200))
			.until(() -> this.meters.get("catalog.cache.invalidations_pending").gauge().value() == 0);
	}

	@AfterAll
	static void closeProxy() {
		proxy.close();
	}

	@Test
	void anInstanceThatOnlyWritesAppliesItsDeferredInvalidationsWhenRedisReturns() {
		long id = TestProducts.create(this.http, "Ladle", "7.00", 1);
		TestProducts.read(this.http, id);
		TestProducts.awaitCacheHit(this.http, id);
		proxy.refuse();
		TestProducts.update(this.http, id, "{\"price\": 8.00}");
		assertThat(this.redis.opsForHash().get(this.keys.key(id), "state")).isEqualTo("value");

		proxy.pass();

		// No read on this instance: the marker must reach Redis for the other instances.
		await().atMost(Duration.ofSeconds(10))
			.pollInterval(Duration.ofMillis(100))
			.untilAsserted(() -> assertThat(this.redis.opsForHash().get(this.keys.key(id), "version")).isEqualTo("1"));
		assertThat(this.redis.opsForHash().get(this.keys.key(id), "state")).isEqualTo("stale");
	}

	@Test
	void aGracefulShutdownTriesOnceMoreAndNamesWhatItCouldNotApply(@Autowired Environment environment,
			CapturedOutput output) {
		long id = TestProducts.create(this.http, "Sieve", "9.00", 1);
		try (SecondInstance other = SecondInstance.sharing(environment)) {
			proxy.refuse();
			other.http()
				.put()
				.uri("/products/{id}", id)
				.contentType(MediaType.APPLICATION_JSON)
				.body("{\"price\": 9.50}")
				.exchange()
				.expectStatus()
				.isOk();
		}
		// Exactly this one: other contexts closing meanwhile name their own products.
		assertThat(output.getOut())
			.containsPattern("WARN .* 1 cache invalidations could not be applied .*: \\[" + id + "\\]\\R");
	}

	@Test
	void aThousandPendingInvalidationsBypassOnlyTheirOwnProducts() throws Exception {
		List<Long> cached = TestProducts.createAndRead(this.http, "Cached", "1.00", 20);
		TestProducts.awaitCacheHit(this.http, cached.get(19));
		proxy.refuse();
		List<Long> written = new ArrayList<>();
		for (int i = 0; i < 1000; i++) {
			written.add(TestProducts.create(this.http, "Written " + i, "2.00", 1));
		}
		// Redis answers again, slowly: applying 1,000 invalidations one by one takes a
		// while, and no read may wait for that.
		proxy.latency(Duration.ofMillis(10));

		HttpClient client = HttpClient.newBuilder().executor(this.threads).build();
		List<Long> pendingProbe = written.subList(980, 1000);
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
		List<String> slow = new ArrayList<>();
		boolean allHits = false;
		while (!allHits && System.nanoTime() < deadline) {
			CountDownLatch start = new CountDownLatch(1);
			List<Future<HttpResponse<String>>> reads = new ArrayList<>();
			List<Future<Long>> millis = new ArrayList<>();
			for (int reader = 0; reader < 20; reader++) {
				long id = cached.get(reader);
				reads.add(this.threads.submit(() -> {
					start.await();
					long begin = System.nanoTime();
					HttpResponse<String> response = client.send(get(id), HttpResponse.BodyHandlers.ofString());
					long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);
					if (took > 1000) {
						synchronized (slow) {
							slow.add(id + ":" + took + "ms");
						}
					}
					return response;
				}));
			}
			start.countDown();
			allHits = true;
			for (Future<HttpResponse<String>> read : reads) {
				HttpResponse<String> response = read.get(30, TimeUnit.SECONDS);
				assertThat(response.statusCode()).isEqualTo(200);
				allHits &= "HIT".equals(response.headers().firstValue("X-Cache").orElse(""));
			}
			assertThat(slow).as("reads that waited more than 1 s").isEmpty();
		}
		assertThat(allHits).as("20 concurrent reads of products without pending invalidations are hits again").isTrue();
		for (long id : pendingProbe) {
			HttpResponse<String> response = client.send(get(id), HttpResponse.BodyHandlers.ofString());
			assertThat(response.statusCode()).isEqualTo(200);
			assertThat(response.headers().firstValue("X-Cache")).as("product %d, still pending", id).contains("BYPASS");
		}
		proxy.pass();
	}

	private HttpRequest get(long id) {
		return HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + "/products/" + id)).build();
	}

}
