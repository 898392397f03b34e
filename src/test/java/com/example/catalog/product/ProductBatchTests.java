package com.example.catalog.product;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import jakarta.persistence.EntityManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import com.example.catalog.cache.ProductKeys;
import com.example.catalog.support.DatabaseStatements;
import com.example.catalog.support.DirectRedis;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.RedisFaultProxy;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;
import com.example.catalog.support.TestRedis;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.EntityExchangeResult;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Batch reads, {@code GET /products?ids=...}, end to end through a TCP proxy in front of
 * the real test Redis (so a test can slow Redis down or take it away): order, duplicates,
 * ids not found, refusals, the ETag and 304, the X-Cache values and counts, one SQL
 * statement for a cold batch and one round trip to Redis for a warm one, the fallback to
 * the single lookup for markers and keys of another type, and the budget of ids not
 * found.
 */
@IntegrationTest
@Order(5) // among the longest classes: started first (junit-platform.properties)
class ProductBatchTests {

	private static final RedisFaultProxy proxy = RedisFaultProxy.start(TestRedis.host(), TestRedis.port());

	/** Low enough for one test to spend it, high enough for the others never to. */
	private static final int NOT_FOUND_PER_SECOND = 30;

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry, "127.0.0.1", proxy.port());
		TestEnvironment.relaxRedisTimeouts(registry);
		registry.add("catalog.api.not-found-per-second", () -> Integer.toString(NOT_FOUND_PER_SECOND));
	}

	@Autowired
	private RestTestClient http;

	@Autowired
	private ProductKeys keys;

	private DatabaseStatements statements;

	@BeforeEach
	void setUp(@Autowired EntityManagerFactory entityManagerFactory) {
		this.statements = new DatabaseStatements(entityManagerFactory);
	}

	@AfterEach
	void redisComesBack() {
		proxy.pass();
	}

	@AfterAll
	static void closeProxy() {
		proxy.close();
	}

	@Test
	void answersInTheOrderAskedEachIdOnceAndListsTheIdsNotFound() {
		long a = TestProducts.create(this.http, "Batch A", "1.00", 1);
		long b = TestProducts.create(this.http, "Batch B", "2.00", 2);
		long c = TestProducts.create(this.http, "Batch C", "3.00", 3);
		long missing = c + 1_000_000;

		EntityExchangeResult<Map<String, Object>> result = batch(c, a, missing, b, a, c);

		Map<String, Object> body = result.getResponseBody();
		assertThat(ids(body)).containsExactly(c, a, b);
		assertThat(notFound(body)).containsExactly(missing);
		assertThat(body).containsEntry("page", 0)
			.containsEntry("size", 4)
			.containsEntry("total_items", 3)
			.containsEntry("total_pages", 1);
		assertThat(items(body).get(0)).containsEntry("name", "Batch C").containsEntry("stock_quantity", 3);
		assertThat(result.getResponseHeaders().getFirst("Cache-Control")).isEqualTo("no-cache");
		assertThat(result.getResponseHeaders().getFirst("Link")).isNull();
		// The bytes of each item are those a single read answers.
		String single = new String(this.http.get()
			.uri("/products/{id}", b)
			.exchange()
			.expectBody(byte[].class)
			.returnResult()
			.getResponseBody());
		String whole = new String(this.http.get()
			.uri("/products?ids={ids}", c + "," + b)
			.exchange()
			.expectBody(byte[].class)
			.returnResult()
			.getResponseBody());
		assertThat(whole).contains("," + single + "]");
	}

	@Test
	void aPageOfTheListHasNoNotFoundField() {
		TestProducts.create(this.http, "Batch page", "1.00", 1);

		assertThat(TestProducts.list(this.http, "size=1").getResponseBody()).doesNotContainKey("not_found");
	}

	@Test
	void refusesAnEmptyListTooManyIdsMalformedIdsAndOtherParameters() {
		String hundredAndOne = LongStream.rangeClosed(1, 101).mapToObj(Long::toString).collect(Collectors.joining(","));
		String hundred = LongStream.rangeClosed(1, 100).mapToObj(Long::toString).collect(Collectors.joining(","));

		assertRefused("ids=", "ids", "1 to 100");
		assertRefused("ids=" + hundredAndOne, "ids", "at most 100 ids; 101 were given");
		assertRefused("ids=1,abc,3", "ids", "item 2 is not a positive whole number");
		assertRefused("ids=1,,3", "ids", "item 2");
		assertRefused("ids=0", "ids", "item 1");
		assertRefused("ids=9223372036854775808", "ids", "item 1");
		assertRefused("ids=1&ids=2", "ids", "at most once");
		assertRefused("ids=1&page=0", "page", "cannot be combined with ids");
		assertRefused("q=cup&ids=1", "q", "cannot be combined with ids");
		assertRefused("ids=1&size=5&sort=price", "size", "cannot be combined with ids");
		this.http.get().uri("/products?ids={ids}", hundred).exchange().expectStatus().isOk();
	}

	@Test
	void aColdBatchOfFiftyCostsOneSqlStatementAndAWarmOneNone() {
		List<Long> ids = createProducts("Cold", 50);

		long before = this.statements.count();
		EntityExchangeResult<Map<String, Object>> cold = batch(ids);
		long coldStatements = this.statements.count() - before;

		assertThat(ids(cold.getResponseBody())).containsExactlyElementsOf(ids);
		assertThat(coldStatements).as("SQL statements of a cold batch of 50").isEqualTo(1);
		assertThat(cold.getResponseHeaders().getFirst("X-Cache")).isEqualTo("MISS");
		assertThat(cold.getResponseHeaders().getFirst("X-Cache-Counts")).isEqualTo("hit=0, miss=50, bypass=0");

		before = this.statements.count();
		EntityExchangeResult<Map<String, Object>> warm = batch(ids);

		assertThat(this.statements.count() - before).as("SQL statements of a warm batch").isZero();
		assertThat(ids(warm.getResponseBody())).containsExactlyElementsOf(ids);
		assertThat(warm.getResponseHeaders().getFirst("X-Cache")).isEqualTo("HIT");
		assertThat(warm.getResponseHeaders().getFirst("X-Cache-Counts")).isEqualTo("hit=50, miss=0, bypass=0");
		assertThat(warm.getResponseHeaders().getETag()).isEqualTo(cold.getResponseHeaders().getETag());
	}

	/**
	 * Each answer from Redis reaches the service 150 ms late: fifty lookups one after the
	 * other would take 7.5 s, fifty sent together one delay.
	 */
	@Test
	void aWarmBatchOfFiftyCostsOneRoundTripToRedis() {
		List<Long> ids = createProducts("Warm", 50);
		batch(ids);
		assertThat(batch(ids).getResponseHeaders().getFirst("X-Cache")).isEqualTo("HIT");
		Duration delay = Duration.ofMillis(150);
		proxy.latency(delay);

		long start = System.nanoTime();
		EntityExchangeResult<Map<String, Object>> warm = batch(ids);
		Duration took = Duration.ofNanos(System.nanoTime() - start);

		assertThat(warm.getResponseHeaders().getFirst("X-Cache")).isEqualTo("HIT");
		assertThat(ids(warm.getResponseBody())).containsExactlyElementsOf(ids);
		assertThat(took).as("a warm batch through a proxy that delays each answer by " + delay)
			.isGreaterThanOrEqualTo(delay)
			.isLessThan(delay.multipliedBy(4));
	}

	@Test
	void answers304WhileNothingChangedAndANewETagAfterAWrite() {
		List<Long> ids = createProducts("Tagged", 3);
		long missing = ids.get(2) + 1_000_000;
		List<Long> asked = new ArrayList<>(ids);
		asked.add(missing);
		EntityExchangeResult<Map<String, Object>> first = batch(asked);
		String etag = first.getResponseHeaders().getETag();
		assertThat(etag).matches("\"[0-9a-f]{32}\"");

		this.http.get()
			.uri("/products?ids={ids}", join(asked))
			.header("If-None-Match", etag)
			.exchange()
			.expectStatus()
			.isNotModified()
			.expectHeader()
			.valueEquals("ETag", etag)
			.expectHeader()
			.valueEquals("X-Cache", "HIT")
			.expectBody()
			.isEmpty();

		TestProducts.update(this.http, ids.get(1), "{\"price\": 9.99}");

		EntityExchangeResult<Map<String, Object>> after = this.http.get()
			.uri("/products?ids={ids}", join(asked))
			.header("If-None-Match", etag)
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody(TestProducts.JSON_OBJECT)
			.returnResult();
		assertThat(after.getResponseHeaders().getETag()).isNotEqualTo(etag);
		assertThat(items(after.getResponseBody()).get(1)).containsEntry("version", 1).containsEntry("price", 9.99);
		// Another order is another answer, with a tag of its own.
		assertThat(batch(ids.get(1), ids.get(0)).getResponseHeaders().getETag())
			.isNotEqualTo(batch(ids.get(0), ids.get(1)).getResponseHeaders().getETag());
	}

	@Test
	void isAMissWhenSomeIdsCameFromTheDatabase() {
		List<Long> ids = createProducts("Mixed", 3);
		batch(ids);
		long cold = TestProducts.create(this.http, "Mixed cold", "1.00", 1);
		List<Long> asked = new ArrayList<>(ids);
		asked.add(cold);

		EntityExchangeResult<Map<String, Object>> mixed = batch(asked);

		assertThat(mixed.getResponseHeaders().getFirst("X-Cache")).isEqualTo("MISS");
		assertThat(mixed.getResponseHeaders().getFirst("X-Cache-Counts")).isEqualTo("hit=3, miss=1, bypass=0");
	}

	@Test
	void rememberedMissingIdsAreCacheHits() {
		long existing = TestProducts.create(this.http, "Remembered", "1.00", 1);
		long missing = existing + 2_000_000;
		assertThat(batch(existing, missing).getResponseHeaders().getFirst("X-Cache")).isEqualTo("MISS");

		EntityExchangeResult<Map<String, Object>> again = batch(existing, missing);

		assertThat(again.getResponseHeaders().getFirst("X-Cache")).isEqualTo("HIT");
		assertThat(again.getResponseHeaders().getFirst("X-Cache-Counts")).isEqualTo("hit=2, miss=0, bypass=0");
		assertThat(notFound(again.getResponseBody())).containsExactly(missing);
		this.http.get().uri("/products/{id}", missing).exchange().expectStatus().isNotFound();
	}

	@Test
	void isABypassWhileRedisIsAway() {
		List<Long> ids = createProducts("Bypassed", 3);
		batch(ids);
		proxy.refuse();

		EntityExchangeResult<Map<String, Object>> result = batch(ids);

		assertThat(result.getResponseHeaders().getFirst("X-Cache")).isEqualTo("BYPASS");
		assertThat(result.getResponseHeaders().getFirst("X-Cache-Counts")).isEqualTo("hit=0, miss=0, bypass=3");
		assertThat(ids(result.getResponseBody())).containsExactlyElementsOf(ids);
		proxy.pass();
		await().atMost(Duration.ofSeconds(10))
			.pollInterval(Duration.ofMillis(200))
			.untilAsserted(() -> assertThat(batch(ids).getResponseHeaders().getFirst("X-Cache")).isEqualTo("HIT"));
	}

	/**
	 * A marker (a create's) and a key of another type are not plain values: those ids
	 * take the single lookup, whose script judges them, and the batch answers what the
	 * database holds. An update leaves its value, a hit.
	 */
	@Test
	void markersAndKeysOfAnotherTypeTakeTheSingleLookup() {
		List<Long> ids = createProducts("Marked", 4);
		batch(ids.subList(1, 4));
		assertThat(DirectRedis.template().opsForHash().get(this.keys.key(ids.get(0)), "state")).isEqualTo("stale");
		TestProducts.update(this.http, ids.get(1), "{\"price\": 4.44}");
		DirectRedis.template().delete(this.keys.key(ids.get(2)));
		DirectRedis.template().opsForValue().set(this.keys.key(ids.get(2)), "planted");

		EntityExchangeResult<Map<String, Object>> result = batch(ids);

		List<Map<String, Object>> items = items(result.getResponseBody());
		assertThat(items.get(0)).containsEntry("name", "Marked 0").containsEntry("version", 0);
		assertThat(items.get(1)).containsEntry("version", 1).containsEntry("price", 4.44);
		assertThat(items.get(2)).containsEntry("name", "Marked 2");
		assertThat(result.getResponseHeaders().getFirst("X-Cache-Counts")).isEqualTo("hit=2, miss=2, bypass=0");
		assertThat(batch(ids).getResponseHeaders().getFirst("X-Cache")).isEqualTo("HIT");
	}

	@Test
	void idsNotFoundSpendTheBudgetOfSingle404s() {
		long base = TestProducts.create(this.http, "Budget", "1.00", 1) + 5_000_000;
		List<Long> missing = LongStream.range(base, base + NOT_FOUND_PER_SECOND).boxed().toList();

		// Retried until the whole batch falls within one second of the budget.
		await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
			assertThat(notFound(batch(missing).getResponseBody())).hasSize(NOT_FOUND_PER_SECOND);
			this.http.get()
				.uri("/products?ids={ids}", join(missing))
				.exchange()
				.expectStatus()
				.isEqualTo(429)
				.expectHeader()
				.exists("Retry-After");
			this.http.get().uri("/products/{id}", base).exchange().expectStatus().isEqualTo(429);
		});
		// The list itself is not throttled.
		this.http.get().uri("/products?size=1").exchange().expectStatus().isOk();
		await().atMost(Duration.ofSeconds(5))
			.untilAsserted(() -> this.http.get().uri("/products?ids={ids}", base).exchange().expectStatus().isOk());
	}

	private void assertRefused(String query, String parameter, String message) {
		Map<String, Object> problem = this.http.get()
			.uri("/products?" + query)
			.exchange()
			.expectStatus()
			.isBadRequest()
			.expectHeader()
			.contentType("application/problem+json")
			.expectBody(TestProducts.JSON_OBJECT)
			.returnResult()
			.getResponseBody();
		assertThat(problem).as(query).containsEntry("title", "Invalid query parameter");
		@SuppressWarnings("unchecked")
		List<Map<String, Object>> errors = (List<Map<String, Object>>) problem.get("errors");
		assertThat(errors).as(query)
			.anySatisfy((error) -> assertThat(error).containsEntry("parameter", parameter)
				.hasEntrySatisfying("message", (text) -> assertThat((String) text).contains(message)));
	}

	private List<Long> createProducts(String name, int count) {
		List<Long> ids = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			ids.add(TestProducts.create(this.http, name + " " + i, "1.00", 1));
		}
		return ids;
	}

	private EntityExchangeResult<Map<String, Object>> batch(long... ids) {
		return batch(LongStream.of(ids).boxed().toList());
	}

	private EntityExchangeResult<Map<String, Object>> batch(List<Long> ids) {
		return this.http.get()
			.uri("/products?ids={ids}", join(ids))
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody(TestProducts.JSON_OBJECT)
			.returnResult();
	}

	private static String join(List<Long> ids) {
		return ids.stream().map(Object::toString).collect(Collectors.joining(","));
	}

	@SuppressWarnings("unchecked")
	private static List<Map<String, Object>> items(Map<String, Object> body) {
		return (List<Map<String, Object>>) body.get("items");
	}

	@SuppressWarnings("unchecked")
	private static List<Long> notFound(Map<String, Object> body) {
		return ((List<Number>) body.get("not_found")).stream().map(Number::longValue).toList();
	}

	private static List<Long> ids(Map<String, Object> body) {
		return items(body).stream().map((item) -> ((Number) item.get("id")).longValue()).toList();
	}

}
