package com.example.catalog.cache;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.SecondInstance;
import com.example.catalog.support.TestEnvironment;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.core.env.Environment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Readers and writers hammer a few products at once for a while; afterwards every cache
 * entry must match the database, and no read that began after a write was acknowledged
 * may have seen an older version. Every hit is audited ({@code CACHE_AUDIT_SAMPLE=1.0},
 * no budget to speak of), and the consistency auditor must count none of them stale. Runs
 * 5 s here; {@code bench/storm.sh} runs it longer ({@code -Dstorm.seconds=N}).
 */
@IntegrationTest
@Order(4) // among the longest classes: started first (junit-platform.properties)
class CacheStormTests {

	private static final Pattern VERSION = Pattern.compile("\"version\":(\\d+)");

	private static final long DELETED = Long.MAX_VALUE;

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
		registry.add("catalog.cache.audit.sample", () -> "1.0");
		registry.add("catalog.cache.audit.max-per-second", () -> "1000000");
	}

	/**
	 * The near cache's bound on a write acknowledged by the other instance (see
	 * NearCacheTests).
	 */
	private static final Duration NEAR_CACHE_BOUND = Duration.ofSeconds(1);

	@LocalServerPort
	private int port;

	@Autowired
	private StringRedisTemplate redis;

	@Autowired
	private JdbcTemplate jdbc;

	@Autowired
	private ProductKeys keys;

	@Autowired
	private CacheAuditor auditor;

	@Autowired
	private Environment environment;

	private final HttpClient client = HttpClient.newHttpClient();

	/** Per product: the versions writers saw acknowledged, with when. */
	private final Map<Long, ConcurrentLinkedQueue<Ack>> acks = new ConcurrentHashMap<>();

	private final List<Long> ids = new CopyOnWriteArrayList<>();

	/** The ports of the instances the storm runs against. */
	private List<Integer> ports;

	@Test
	void cacheMatchesDatabaseAfterConcurrentReadsWritesAndDeletes() throws Exception {
		this.ports = List.of(this.port);
		Storm storm = storm();
		assertThat(storm.staleReads()).as("reads older than a write acknowledged before they began").isZero();
		assertNoStaleAudited(this.auditor);
	}

	/**
	 * The same on two instances sharing the database and Redis, the second with its near
	 * cache as the default sets it (auto: on, on this Redis): near hits are audited too.
	 * A read on one instance may lag a write acknowledged by the other for as long as the
	 * near cache's invalidation takes.
	 */
	@Test
	void twoInstancesOneWithANearCacheAuditEveryHitAndFindNoneStale() throws Exception {
		try (SecondInstance second = SecondInstance.sharing(this.environment, "catalog.cache.audit.sample=1.0",
				"catalog.cache.audit.max-per-second=1000000", "catalog.cache.near.enabled=auto",
				"catalog.api.not-found-per-second=0", "catalog.api.body-reads-per-client=1000")) {
			int secondPort = ((WebServerApplicationContext) second.context()).getWebServer().getPort();
			this.ports = List.of(this.port, secondPort);
			Storm storm = storm();
			assertThat(storm.longestLagMillis()).as("longest lag behind a write acknowledged on either instance")
				.isLessThan(NEAR_CACHE_BOUND.toMillis());
			assertNoStaleAudited(this.auditor);
			assertNoStaleAudited(second.context().getBean(CacheAuditor.class));
			assertThat(second.context()
				.getBean(MeterRegistry.class)
				.get("catalog.cache.lookups")
				.tag("outcome", "near_hit")
				.counter()
				.count()).as("near hits audited on the second instance").isPositive();
		}
	}

	private static void assertNoStaleAudited(CacheAuditor auditor) {
		await().atMost(Duration.ofSeconds(30)).until(() -> auditor.checksUnderWay() == 0);
		CacheAuditor.Counts counts = auditor.counts();
		System.out.printf("STORM AUDIT: %s%n", counts);
		assertThat(counts.stale()).as("hits the auditor found stale").isZero();
		assertThat(counts.skippedForBudget()).as("hits not audited for the budget").isZero();
		assertThat(counts.consistent()).as("hits audited").isPositive();
	}

	private Storm storm() throws Exception {
		Duration duration = Duration.ofSeconds(Long.getLong("storm.seconds", 5));
		for (int i = 0; i < 20; i++) {
			create();
		}
		ExecutorService threads = Executors.newFixedThreadPool(10);
		long end = System.nanoTime() + duration.toNanos();
		List<Future<List<Read>>> readers = new ArrayList<>();
		List<Future<Integer>> writers = new ArrayList<>();
		for (int i = 0; i < 7; i++) {
			readers.add(threads.submit(() -> readUntil(end)));
		}
		for (int i = 0; i < 3; i++) {
			writers.add(threads.submit(() -> writeUntil(end)));
		}
		List<Read> reads = new ArrayList<>();
		for (Future<List<Read>> reader : readers) {
			reads.addAll(reader.get(duration.toSeconds() + 60, TimeUnit.SECONDS));
		}
		int writes = 0;
		for (Future<Integer> writer : writers) {
			writes += writer.get(duration.toSeconds() + 60, TimeUnit.SECONDS);
		}
		threads.shutdown();

		int staleKeys = countStaleKeys();
		long staleReads = 0;
		long longestLagMillis = 0;
		for (Read read : reads) {
			long lag = lagBehindAcknowledgedWrite(read);
			if (lag > 0) {
				staleReads++;
				longestLagMillis = Math.max(longestLagMillis, TimeUnit.NANOSECONDS.toMillis(lag));
			}
		}
		System.out.printf(
				"STORM: %d s, %d products, %d reads, %d writes, %d stale keys, %d stale reads, "
						+ "longest lag behind an acknowledged write %d ms%n",
				duration.toSeconds(), this.ids.size(), reads.size(), writes, staleKeys, staleReads, longestLagMillis);
		assertThat(reads).hasSizeGreaterThan(100);
		assertThat(staleKeys).as("cache entries that differ from the database").isZero();
		return new Storm(staleReads, longestLagMillis);
	}

	private List<Read> readUntil(long end) throws Exception {
		List<Read> reads = new ArrayList<>();
		while (System.nanoTime() < end) {
			long id = randomId();
			long started = System.nanoTime();
			HttpResponse<String> response = send(HttpRequest.newBuilder(uri(id)).GET());
			assertThat(response.statusCode()).isIn(200, 404);
			reads.add(new Read(id, started, (response.statusCode() == 404) ? DELETED : version(response.body())));
		}
		return reads;
	}

	private int writeUntil(long end) throws Exception {
		int writes = 0;
		while (System.nanoTime() < end) {
			long id = randomId();
			if (ThreadLocalRandom.current().nextInt(10) == 0) {
				HttpResponse<String> response = send(HttpRequest.newBuilder(uri(id)).DELETE());
				if (response.statusCode() == 204) {
					acknowledged(id, DELETED);
					create();
				}
			}
			else {
				String body = "{\"stock_quantity\": %d}".formatted(ThreadLocalRandom.current().nextInt(1000));
				HttpResponse<String> response = send(HttpRequest.newBuilder(uri(id))
					.header("Content-Type", "application/json")
					.PUT(HttpRequest.BodyPublishers.ofString(body)));
				assertThat(response.statusCode()).isIn(200, 404);
				if (response.statusCode() == 200) {
					acknowledged(id, version(response.body()));
				}
			}
			writes++;
		}
		return writes;
	}

	private void create() throws Exception {
		HttpResponse<String> response = send(
				HttpRequest.newBuilder(URI.create("http://localhost:" + randomPort() + "/products"))
					.header("Content-Type", "application/json")
					.POST(HttpRequest.BodyPublishers
						.ofString("{\"name\": \"Storm\", \"price\": 1.00, \"stock_quantity\": 1}")));
		assertThat(response.statusCode()).isEqualTo(201);
		long id = Long.parseLong(response.headers().firstValue("Location").orElseThrow().replace("/products/", ""));
		acknowledged(id, 0);
		this.ids.add(id);
	}

	/**
	 * How long before the read began a newer version than the one it saw had been
	 * acknowledged; 0 if none.
	 */
	private long lagBehindAcknowledgedWrite(Read read) {
		long lag = 0;
		for (Ack ack : this.acks.get(read.id())) {
			if (ack.nanos() < read.startedNanos() && ack.version() > read.version()) {
				lag = Math.max(lag, read.startedNanos() - ack.nanos());
			}
		}
		return lag;
	}

	private int countStaleKeys() {
		int stale = 0;
		for (long id : this.ids) {
			Map<Object, Object> entry = this.redis.opsForHash().entries(this.keys.key(id));
			if (!"value".equals(entry.get("state"))) {
				continue;
			}
			List<Long> versions = this.jdbc.queryForList("SELECT version FROM products WHERE id = ?", Long.class, id);
			long cached = Long.parseLong((String) entry.get("version"));
			if (versions.isEmpty() || versions.get(0) != cached || version((String) entry.get("json")) != cached) {
				stale++;
			}
		}
		return stale;
	}

	private void acknowledged(long id, long version) {
		this.acks.computeIfAbsent(id, (key) -> new ConcurrentLinkedQueue<>()).add(new Ack(version, System.nanoTime()));
	}

	private long randomId() {
		return this.ids.get(ThreadLocalRandom.current().nextInt(this.ids.size()));
	}

	private URI uri(long id) {
		return URI.create("http://localhost:" + randomPort() + "/products/" + id);
	}

	private int randomPort() {
		return this.ports.get(ThreadLocalRandom.current().nextInt(this.ports.size()));
	}

	private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
		return this.client.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

	private static long version(String json) {
		Matcher matcher = VERSION.matcher(json);
		assertThat(matcher.find()).as("version in %s", json).isTrue();
		return Long.parseLong(matcher.group(1));
	}

	private record Read(long id, long startedNanos, long version) {
	}

	private record Storm(long staleReads, long longestLagMillis) {
	}

	private record Ack(long version, long nanos) {
	}

}
