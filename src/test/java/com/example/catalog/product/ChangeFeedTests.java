package com.example.catalog.product;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.example.catalog.cache.CacheProperties;
import com.example.catalog.cache.ProductCache;
import com.example.catalog.cache.ProductInvalidations;
import com.example.catalog.cache.ProductKeys;
import com.example.catalog.support.ProcessOutput;
import com.example.catalog.support.SecondInstance;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.core.env.Environment;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Writes the service never sees: another client changes the products table with plain SQL
 * (the test's own JDBC connection, as {@code sqlite3} or {@code psql} would), and the
 * change feed makes the API serve the change within a second, whatever the writer did
 * with {@code version}. Run on SQLite and on PostgreSQL by the two subclasses.
 */
@ExtendWith(ProcessOutput.class)
abstract class ChangeFeedTests {

	/** The bound for a change made elsewhere to be served. */
	private static final Duration WITHIN = Duration.ofSeconds(1);

	private static final AtomicLong names = new AtomicLong();

	@Autowired
	private RestTestClient http;

	@Autowired
	private Environment environment;

	@Autowired
	ProductChangeFeed feed;

	@Autowired
	private MeterRegistry meters;

	@Autowired
	private StringRedisTemplate redis;

	@Autowired
	private ProductKeys keys;

	@Autowired
	private CacheProperties cacheProperties;

	@Autowired
	private ProductInvalidations invalidations;

	@Autowired
	private ProductCache cache;

	@Value("${spring.datasource.url}")
	private String databaseUrl;

	@Value("${local.management.port}")
	private int managementPort;

	@Test
	void anUpdateThatRaisesTheVersionIsServedWithinASecond() throws SQLException {
		long id = cachedProduct();
		sql("UPDATE products SET price_cents = 999, version = version + 1 WHERE id = ?", id);
		awaitServed(id, "9.99", 1);
	}

	@Test
	void anUpdateThatLeavesTheVersionAloneGetsANewVersionAndETag() throws SQLException {
		long id = cachedProduct();
		String etag = etag(id);
		sql("UPDATE products SET price_cents = 777 WHERE id = ?", id);
		awaitServed(id, "7.77", 1);
		// The old ETag no longer matches: the content changed.
		this.http.get().uri("/products/{id}", id).header("If-None-Match", etag).exchange().expectStatus().isOk();
	}

	@Test
	void anUpdateThatLowersTheVersionStillMovesItForward() throws SQLException {
		long id = cachedProduct();
		TestProducts.update(this.http, id, "{\"name\": \"Lowered\", \"price\": 1.00, \"stock_quantity\": 1}");
		TestProducts.awaitCacheHit(this.http, id);
		sql("UPDATE products SET price_cents = 555, version = 0 WHERE id = ?", id);
		awaitServed(id, "5.55", 2);
	}

	@Test
	void aDeletedRowIsServedAsNotFound() throws SQLException {
		long id = cachedProduct();
		sql("DELETE FROM products WHERE id = ?", id);
		await().atMost(WITHIN)
			.untilAsserted(() -> this.http.get().uri("/products/{id}", id).exchange().expectStatus().isNotFound());
	}

	/**
	 * The feed reads a product's row, the service deletes the product, then the feed
	 * marks the version it read (its batch held the product's creation): that must not
	 * undo the deletion, or a reader that loaded the row before the delete could fill the
	 * cache with it and serve a deleted product until the feed's next batch.
	 */
	@Test
	void aRowTheFeedReadBeforeADeleteDoesNotBringTheProductBack() {
		long id = cachedProduct();
		byte[] loadedBeforeTheDelete = this.http.get()
			.uri("/products/{id}", id)
			.exchange()
			.returnResult(byte[].class)
			.getResponseBody();
		this.feed.stop();
		try {
			this.http.delete().uri("/products/{id}", id).exchange().expectStatus().isNoContent();
			this.invalidations.reconcileAll(Map.of(id, 0L));
			this.cache.put(id, 0, loadedBeforeTheDelete);
			this.http.get().uri("/products/{id}", id).exchange().expectStatus().isNotFound();
			assertThat(this.redis.opsForHash().get(this.keys.key(id), "state")).isEqualTo("deleted");
		}
		finally {
			this.feed.start();
		}
	}

	@Test
	void anInsertedRowReplacesARememberedNotFound() throws SQLException {
		long template = cachedProduct();
		long id = template + 1_000_000;
		this.http.get().uri("/products/{id}", id).exchange().expectStatus().isNotFound();
		double remembered = negativeHits();
		this.http.get().uri("/products/{id}", id).exchange().expectStatus().isNotFound();
		assertThat(negativeHits()).isEqualTo(remembered + 1);
		sql("INSERT INTO products (id, name, name_lower, description, price_cents, stock_quantity, created_at, "
				+ "updated_at, version) SELECT ?, 'Inserted', 'inserted', NULL, 4250, 1, created_at, updated_at, 0 "
				+ "FROM products WHERE id = ?", id, template);
		awaitServed(id, "42.5", 0);
	}

	@Test
	void aRestoredRowReplacesTheDeletionMarker() throws SQLException {
		long id = cachedProduct();
		Map<String, Object> row = row(id);
		this.http.delete().uri("/products/{id}", id).exchange().expectStatus().isNoContent();
		this.http.get().uri("/products/{id}", id).exchange().expectStatus().isNotFound();
		sql("INSERT INTO products (id, name, name_lower, description, price_cents, stock_quantity, created_at, "
				+ "updated_at, version) VALUES (?, ?, ?, NULL, 1234, 1, ?, ?, 0)", id, row.get("name"),
				row.get("name_lower"), row.get("created_at"), row.get("updated_at"));
		awaitServed(id, "12.34", 0);
	}

	@Test
	void aNameChangedElsewhereReachesSearchAndTheCachedPages() throws SQLException {
		long id = cachedProduct();
		String unique = "Feed" + names.incrementAndGet() + System.nanoTime();
		String renamed = "ÄRGER " + unique;
		List<?> before = items("name=" + unique.toLowerCase());
		assertThat(before).isEmpty();
		// Written as a client would, without the search column: the feed folds it with
		// the service's own (Unicode) rules.
		sql("UPDATE products SET name = ? WHERE id = ?", renamed, id);
		await().atMost(WITHIN).untilAsserted(() -> {
			assertThat(items("name=" + ("ärger " + unique.toLowerCase()))).hasSize(1);
			assertThat(items("q=" + unique.toLowerCase())).hasSize(1);
		});
	}

	@Test
	void changesMadeWhileNoInstanceRanAreAppliedBeforeTheNextOneServes() throws SQLException {
		long id = cachedProduct();
		this.feed.stop();
		try {
			sql("UPDATE products SET price_cents = 314 WHERE id = ?", id);
			// This instance still serves the cached entry: its feed is stopped, as if
			// it were down.
			this.http.get().uri("/products/{id}", id).exchange().expectHeader().valueEquals("X-Cache", "HIT");
			try (SecondInstance next = SecondInstance.sharing(this.environment)) {
				Map<String, Object> body = TestProducts.read(next.http(), id).getResponseBody();
				assertThat(body.get("price")).hasToString("3.14");
			}
		}
		finally {
			this.feed.start();
		}
	}

	@Test
	void aBulkChangeIsAppliedInBatches() throws SQLException {
		long id = cachedProduct();
		await().atMost(WITHIN).until(() -> this.feed.lag() < 1000);
		long generationBefore = generation();
		importCopiesOf(id, 2500, "UPDATE products SET price_cents = 271 WHERE id = ?");
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(TestProducts.read(this.http, id).getResponseBody().get("price"))
				.hasToString("2.71"));
		await().atMost(WITHIN).until(() -> this.feed.lag() < 1000);
		// 2,501 changes in batches of 1,000: one new generation of the list pages per
		// batch, not per change.
		assertThat(generation() - generationBefore).isBetween(1L, 4L);
	}

	/**
	 * Stopping is the shutdown of an instance, or a paused test context: Redis's
	 * connection factory stops right after, so the feed must be done by then, even when
	 * the thread that stops it was interrupted (a test's worker thread may be).
	 */
	@Test
	void aFeedStoppedFromAnInterruptedThreadAppliesNothingAfterStopReturns() throws SQLException {
		long id = cachedProduct();
		await().atMost(WITHIN).until(() -> this.feed.lag() < 1000);
		Counter applied = this.meters.get("catalog.feed.changes").counter();
		double before = applied.count();
		importCopiesOf(id, 8000);
		// Stopped in the middle of the batches: the first is applied, others follow.
		await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5)).until(() -> applied.count() > before);
		Thread.currentThread().interrupt();
		try {
			this.feed.stop();
			assertThat(this.feed.isFollowing()).as("the feed's thread alive after stop() returned").isFalse();
			assertThat(Thread.interrupted()).as("the caller's interrupt kept").isTrue();
			double stoppedAt = applied.count();
			sleep(1000);
			assertThat(applied.count()).as("changes applied after stop() returned").isEqualTo(stoppedAt);
		}
		finally {
			Thread.interrupted();
			this.feed.start();
		}
		await().atMost(Duration.ofSeconds(20)).until(() -> this.feed.lag() < 1000);
	}

	@Test
	void aRedisFlushWhileTheFeedRunsLosesNothing() throws SQLException {
		long id = cachedProduct();
		// Everything this cache holds is gone, as after FLUSHALL or a restart of a Redis
		// without persistence; the feed's position is in the database.
		Set<String> keys = this.redis.keys(this.keys.key(id).replaceAll("[0-9]+$", "") + "*");
		this.redis.delete(keys);
		TestProducts.read(this.http, id);
		TestProducts.awaitCacheHit(this.http, id);
		sql("UPDATE products SET price_cents = 161 WHERE id = ?", id);
		awaitServed(id, "1.61", 1);
	}

	@Test
	void aFeedThatFallsBehindBoundsHowLongEntriesLive(CapturedOutput output) throws SQLException {
		long id = cachedProduct();
		String key = this.keys.key(id);
		assertThat(this.redis.getExpire(key, TimeUnit.SECONDS)).isGreaterThan(600);
		// The feed can no longer read its table: it falls behind (max-lag is 1 s here).
		sql("ALTER TABLE product_changes RENAME TO product_changes_away");
		try {
			await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
				TestProducts.read(this.http, id);
				// The hit cut the entry's TTL down to CHANGE_FEED_DEGRADED_TTL (60 s).
				assertThat(this.redis.getExpire(key, TimeUnit.SECONDS)).isBetween(1L, 60L);
			});
		}
		finally {
			sql("ALTER TABLE product_changes_away RENAME TO product_changes");
		}
		assertThat(output.getOut())
			.containsPattern("WARN .*Change feed of '" + Pattern.quote(this.cacheProperties.keyPrefix())
					+ "': [0-9]+ s behind \\(CHANGE_FEED_MAX_LAG PT1S\\)");
		await().atMost(Duration.ofSeconds(10)).until(() -> this.feed.lag() < 1000);
		// Caught up: a new entry lives its full TTL again.
		TestProducts.update(this.http, id, "{\"stock_quantity\": 2}");
		await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
			TestProducts.read(this.http, id);
			assertThat(this.redis.getExpire(key, TimeUnit.SECONDS)).isGreaterThan(600);
		});
	}

	@Test
	void changesAreKeptLongerThanAnyCacheEntryThenPruned() throws SQLException {
		cachedProduct();
		long kept = changeRows();
		assertThat(kept).isPositive();
		// An hour from now every entry cached now may still be served: nothing goes.
		assertThat(this.feed.prune(System.currentTimeMillis() + Duration.ofHours(1).toMillis())).isZero();
		assertThat(changeRows()).isEqualTo(kept);
		// A day from now none can: everything goes.
		this.feed.prune(System.currentTimeMillis() + Duration.ofDays(1).toMillis());
		assertThat(changeRows()).isZero();
	}

	@Test
	void theFeedsLagIsOnTheManagementPortsHealth() {
		Map<String, Object> health = health("/actuator/health");
		@SuppressWarnings("unchecked")
		Map<String, Object> components = (Map<String, Object>) health.get("components");
		assertThat(components).containsKey("changeFeed");
		Map<String, Object> feed = health("/actuator/health/feed");
		assertThat(feed).containsEntry("status", "UP");
		assertThat(feed.toString()).contains("lagMillis");
		assertThat(health("/actuator/health/readiness").toString()).doesNotContain("changeFeed");
	}

	private Map<String, Object> health(String path) {
		return TestEnvironment.management(this.managementPort)
			.get()
			.uri(path)
			.exchange()
			.expectBody(TestProducts.JSON_OBJECT)
			.returnResult()
			.getResponseBody();
	}

	/** A product created through the API and read until Redis serves it. */
	long cachedProduct() {
		long id = TestProducts.create(this.http, "Feed product " + names.incrementAndGet(), "1.00", 1);
		TestProducts.read(this.http, id);
		TestProducts.awaitCacheHit(this.http, id);
		return id;
	}

	/**
	 * Waits, at most a second, until the API serves this price, and a version at least
	 * this high, from the cache again.
	 */
	private void awaitServed(long id, String price, long minimumVersion) {
		await().atMost(WITHIN).pollInterval(Duration.ofMillis(20)).untilAsserted(() -> {
			Map<String, Object> body = TestProducts.read(this.http, id).getResponseBody();
			assertThat(body.get("price")).hasToString(price);
			assertThat(((Number) body.get("version")).longValue()).isGreaterThanOrEqualTo(minimumVersion);
		});
		// And the cache serves it from then on.
		TestProducts.awaitCacheHit(this.http, id);
		assertThat(TestProducts.read(this.http, id).getResponseBody().get("price")).hasToString(price);
	}

	/** The list pages' generation in Redis (0 before the first). */
	private long generation() {
		String value = this.redis.opsForValue().get(this.cacheProperties.keyPrefix() + "generation");
		return (value != null) ? Long.parseLong(value) : 0;
	}

	private double negativeHits() {
		return this.meters.get("catalog.cache.lookups").tag("outcome", "negative_hit").counter().count();
	}

	private String etag(long id) {
		return TestProducts.read(this.http, id).getResponseHeaders().getETag();
	}

	private List<?> items(String query) {
		return (List<?>) TestProducts.list(this.http, query).getResponseBody().get("items");
	}

	private long changeRows() throws SQLException {
		try (Connection connection = connect();
				PreparedStatement count = connection.prepareStatement("SELECT count(*) FROM product_changes");
				var rows = count.executeQuery()) {
			rows.next();
			return rows.getLong(1);
		}
	}

	/**
	 * Inserts copies of the product from outside the service in one transaction, then
	 * runs the statements (with the product's id) in it.
	 */
	private void importCopiesOf(long id, int copies, String... statements) throws SQLException {
		try (Connection connection = connect()) {
			connection.setAutoCommit(false);
			try (PreparedStatement insert = connection.prepareStatement(
					"INSERT INTO products (name, name_lower, description, price_cents, stock_quantity, created_at, "
							+ "updated_at, version) SELECT 'Imported', 'imported', NULL, 100, 1, created_at, "
							+ "updated_at, 0 FROM products WHERE id = ?")) {
				insert.setLong(1, id);
				for (int i = 0; i < copies; i++) {
					insert.addBatch();
				}
				insert.executeBatch();
			}
			for (String statement : statements) {
				try (PreparedStatement update = connection.prepareStatement(statement)) {
					update.setLong(1, id);
					update.executeUpdate();
				}
			}
			connection.commit();
		}
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	Connection connect() throws SQLException {
		return DriverManager.getConnection(this.databaseUrl);
	}

	void sql(String statement, Object... arguments) throws SQLException {
		try (Connection connection = connect(); PreparedStatement prepared = connection.prepareStatement(statement)) {
			for (int i = 0; i < arguments.length; i++) {
				prepared.setObject(i + 1, arguments[i]);
			}
			prepared.executeUpdate();
		}
	}

	private Map<String, Object> row(long id) throws SQLException {
		try (Connection connection = connect();
				PreparedStatement select = connection
					.prepareStatement("SELECT name, name_lower, created_at, updated_at FROM products WHERE id = ?")) {
			select.setLong(1, id);
			try (var rows = select.executeQuery()) {
				rows.next();
				return Map.of("name", rows.getObject("name"), "name_lower", rows.getObject("name_lower"), "created_at",
						rows.getObject("created_at"), "updated_at", rows.getObject("updated_at"));
			}
		}
	}

}
