package com.example.catalog.cache;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.persistence.EntityManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.DatabaseStatements;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.bean.override.mockito.MockitoSpyBean;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doAnswer;

/**
 * The holes of plain cache-aside, each forced to happen: a stale set after an
 * invalidation, a stampede on a cold key, and repeated reads of an id that does not
 * exist.
 */
@IntegrationTest
class CacheConcurrencyTests {

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
	}

	/**
	 * Real behaviour; a test may hold a reader between its database read and its cache
	 * write.
	 */
	@MockitoSpyBean
	private ProductCache cache;

	@Autowired
	private ProductKeys keys;

	@Autowired
	private RestTestClient http;

	@Autowired
	private StringRedisTemplate redis;

	@Autowired
	private CacheProperties cacheProperties;

	@Autowired
	private MeterRegistry meters;

	@LocalServerPort
	private int port;

	private DatabaseStatements statements;

	private final ExecutorService threads = Executors.newCachedThreadPool();

	@BeforeEach
	void countStatements(@Autowired EntityManagerFactory entityManagerFactory) {
		this.statements = new DatabaseStatements(entityManagerFactory);
	}

	@AfterEach
	void stopThreads() {
		this.threads.shutdownNow();
	}

	@Test
	void refusesToCacheAVersionReadBeforeAnUpdateCommitted() throws Exception {
		long id = create("Lamp", "10.00");
		double refusedBefore = staleSetsRefused();
		CountDownLatch readerLoaded = new CountDownLatch(1);
		CountDownLatch writerDone = new CountDownLatch(1);
		holdNextFillOf(id, readerLoaded, writerDone);

		Future<Map<String, Object>> reader = this.threads.submit(() -> read(id));
		assertThat(readerLoaded.await(10, TimeUnit.SECONDS)).isTrue();
		this.http.put().uri("/products/{id}", id).contentType(MediaType.APPLICATION_JSON).body("""
				{"price": 12.00}""").exchange().expectStatus().isOk();
		writerDone.countDown();

		assertThat(reader.get(10, TimeUnit.SECONDS)).containsEntry("version", 0);
		assertThat(this.redis.opsForHash().get(key(id), "version")).isEqualTo("1");
		assertThat(read(id)).containsEntry("version", 1);
		assertThat(read(id)).containsEntry("version", 1);
		assertThat(staleSetsRefused()).isEqualTo(refusedBefore + 1);
	}

	@Test
	void refusesToCacheAVersionReadBeforeADeleteCommitted() throws Exception {
		long id = create("Vase", "22.00");
		CountDownLatch readerLoaded = new CountDownLatch(1);
		CountDownLatch writerDone = new CountDownLatch(1);
		holdNextFillOf(id, readerLoaded, writerDone);

		Future<Map<String, Object>> reader = this.threads.submit(() -> read(id));
		assertThat(readerLoaded.await(10, TimeUnit.SECONDS)).isTrue();
		this.http.delete().uri("/products/{id}", id).exchange().expectStatus().isNoContent();
		writerDone.countDown();

		assertThat(reader.get(10, TimeUnit.SECONDS)).containsEntry("version", 0);
		assertThat(this.redis.opsForHash().get(key(id), "state")).isEqualTo("deleted");
		this.http.get().uri("/products/{id}", id).exchange().expectStatus().isNotFound();
	}

	@Test
	void twoHundredConcurrentReadsOfAColdKeyReadTheDatabaseOnce() throws Exception {
		long id = create("Clock", "70.00");
		HttpClient client = HttpClient.newBuilder().executor(this.threads).build();
		HttpRequest get = HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + "/products/" + id))
			.build();
		CountDownLatch start = new CountDownLatch(1);
		long before = this.statements.count();
		double bypassesBefore = lookups("bypass");

		List<Future<HttpResponse<String>>> responses = new ArrayList<>();
		for (int i = 0; i < 200; i++) {
			responses.add(this.threads.submit(() -> {
				start.await();
				return client.send(get, HttpResponse.BodyHandlers.ofString());
			}));
		}
		start.countDown();

		Set<String> bodies = new HashSet<>();
		for (Future<HttpResponse<String>> response : responses) {
			HttpResponse<String> answered = response.get(30, TimeUnit.SECONDS);
			assertThat(answered.statusCode()).isEqualTo(200);
			bodies.add(answered.body());
		}
		assertThat(bodies).hasSize(1);
		assertThat(this.statements.count() - before)
			.as("database statements (lookups that bypassed Redis: %s)", lookups("bypass") - bypassesBefore)
			.isEqualTo(1);
	}

	@Test
	void repeatedReadsOfAMissingIdReadTheDatabaseOnceUntilItExists() {
		long existing = create("Rug", "120.00");
		long next = existing + 1;
		this.http.get().uri("/products/{id}", next).exchange().expectStatus().isNotFound();
		long before = this.statements.count();

		for (int i = 0; i < 10; i++) {
			this.http.get().uri("/products/{id}", next).exchange().expectStatus().isNotFound();
		}
		assertThat(this.statements.count()).isEqualTo(before);
		assertThat(this.redis.opsForHash().get(key(next), "state")).isEqualTo("absent");
		long ttl = this.redis.getExpire(key(next));
		assertThat(ttl).isPositive().isLessThanOrEqualTo((long) (this.cacheProperties.negativeTtl().toSeconds() * 1.1));

		assertThat(create("Mat", "15.00")).isEqualTo(next);
		assertThat(read(next)).containsEntry("name", "Mat");
	}

	@Test
	void spreadsExpiriesOfEntriesLoadedTogether() {
		Set<Long> ttls = new HashSet<>();
		long configured = this.cacheProperties.ttl().toMillis();
		for (int i = 0; i < 20; i++) {
			long id = create("Cup " + i, "3.00");
			read(id);
			long ttl = this.redis.getExpire(key(id), TimeUnit.MILLISECONDS);
			assertThat(ttl).isBetween((long) (configured * 0.89), (long) (configured * 1.1));
			ttls.add(ttl / 1000);
		}
		assertThat(ttls).as("distinct TTLs in seconds").hasSizeGreaterThan(10);
	}

	private void holdNextFillOf(long id, CountDownLatch readerLoaded, CountDownLatch writerDone) {
		AtomicBoolean held = new AtomicBoolean();
		doAnswer((call) -> {
			if (held.compareAndSet(false, true)) {
				readerLoaded.countDown();
				writerDone.await(10, TimeUnit.SECONDS);
			}
			return call.callRealMethod();
		}).when(this.cache).put(eq(id), anyLong(), any());
	}

	private Map<String, Object> read(long id) {
		return TestProducts.read(this.http, id).getResponseBody();
	}

	private long create(String name, String price) {
		return TestProducts.create(this.http, name, price, 1);
	}

	private double staleSetsRefused() {
		return this.meters.get("catalog.cache.stale_sets_refused").counter().count();
	}

	private double lookups(String outcome) {
		return this.meters.get("catalog.cache.lookups").tag("outcome", outcome).counter().count();
	}

	private String key(long id) {
		return this.keys.key(id);
	}

}
