package com.example.catalog.database;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.LongStream;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import com.example.catalog.cache.ProductKeys;
import com.example.catalog.support.CacheAudits;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.OneProductStorm;
import com.example.catalog.support.OneProductStorm.Answer;
import com.example.catalog.support.RedisFaultProxy;
import com.example.catalog.support.SecondInstance;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestPostgres;
import com.example.catalog.support.TestProducts;
import com.example.catalog.support.TestRedis;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.core.env.Environment;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.http.MediaType;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The service on PostgreSQL instead of SQLite: Flyway's PostgreSQL migrations, exact
 * prices and timestamps, the cache in front, and listing and search, end to end. Each run
 * gets a schema of its own.
 */
@IntegrationTest
@Order(1) // among the longest classes: started first (junit-platform.properties)
class PostgresTests implements WritesOfOneProductUnderContention {

	private static final String SCHEMA = "catalog_" + UUID.randomUUID().toString().substring(0, 8);

	private static final RedisFaultProxy proxy = RedisFaultProxy.start(TestRedis.host(), TestRedis.port());

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry, "127.0.0.1", proxy.port());
		TestEnvironment.relaxRedisTimeouts(registry);
		String url = TestPostgres.jdbcUrl();
		Assumptions.assumeTrue(url != null, "No PostgreSQL reachable: set POSTGRES_TEST_URL, start Docker, "
				+ "or run PostgreSQL on 127.0.0.1:5432 with a database 'test' (user postgres)");
		registry.add("spring.datasource.url", () -> url + "&currentSchema=" + SCHEMA);
		registry.add("spring.flyway.default-schema", () -> SCHEMA);
		registry.add("catalog.cache.audit.sample", () -> "1.0");
		registry.add("catalog.cache.audit.max-per-second", () -> "10000");
	}

	@AfterAll
	static void closeProxy() {
		proxy.close();
	}

	@AfterAll
	static void dropSchema() throws SQLException {
		if (TestPostgres.jdbcUrl() != null) {
			try (Connection connection = DriverManager.getConnection(TestPostgres.jdbcUrl());
					Statement statement = connection.createStatement()) {
				statement.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
			}
		}
	}

	@Autowired
	private RestTestClient http;

	@LocalServerPort
	private int port;

	@LocalManagementPort
	private int managementPort;

	@Autowired
	private StringRedisTemplate redis;

	@Autowired
	private JdbcTemplate jdbc;

	@Autowired
	private ProductKeys keys;

	@Override
	public RedisFaultProxy redisProxy() {
		return proxy;
	}

	@Test
	void storesReadsCachesUpdatesAndDeletesProducts() {
		String location = this.http.post()
			.uri("/products")
			.contentType(MediaType.APPLICATION_JSON)
			.body("""
					{"name": "Anvil", "description": "Heavy", "price": 1234567890123.45, "quantity": 3}""")
			.exchange()
			.expectStatus()
			.isCreated()
			.returnResult()
			.getResponseHeaders()
			.getLocation()
			.getPath();

		this.http.get()
			.uri(location)
			.exchange()
			.expectStatus()
			.isOk()
			.expectHeader()
			.valueEquals("X-Cache", "MISS")
			.expectBody()
			.jsonPath("$.price")
			.isEqualTo(1234567890123.45)
			.jsonPath("$.stock_quantity")
			.isEqualTo(3)
			.jsonPath("$.created_at")
			.value((createdAt) -> assertThat((String) createdAt).matches("\\d{4}-\\d\\d-\\d\\dT.*Z"));
		this.http.get().uri(location).exchange().expectHeader().valueEquals("X-Cache", "HIT");

		this.http.put().uri(location).contentType(MediaType.APPLICATION_JSON).body("""
				{"price": 0.10}""").exchange().expectStatus().isOk().expectBody().jsonPath("$.version").isEqualTo(1);
		this.http.get()
			.uri(location)
			.exchange()
			.expectHeader()
			.valueEquals("X-Cache", "HIT")
			.expectBody()
			.jsonPath("$.price")
			.isEqualTo(0.10)
			.jsonPath("$.name")
			.isEqualTo("Anvil");

		// Only a change moves the version; an empty description removes it; a new name is
		// found by the name filter.
		String updatedAt = this.http.put()
			.uri(location)
			.contentType(MediaType.APPLICATION_JSON)
			.body("""
					{"price": 0.10, "quantity": 3}""")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody(TestProducts.JSON_OBJECT)
			.returnResult()
			.getResponseBody()
			.get("updated_at")
			.toString();
		this.http.get()
			.uri(location)
			.exchange()
			.expectBody()
			.jsonPath("$.version")
			.isEqualTo(1)
			.jsonPath("$.updated_at")
			.isEqualTo(updatedAt);
		this.http.put()
			.uri(location)
			.contentType(MediaType.APPLICATION_JSON)
			.body("""
					{"name": "Anvil II", "description": ""}""")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.jsonPath("$.version")
			.isEqualTo(2)
			.jsonPath("$.description")
			.isEqualTo(null)
			.jsonPath("$.price")
			.isEqualTo(0.10);
		this.http.get()
			.uri("/products?name=anvil ii")
			.exchange()
			.expectBody()
			.jsonPath("$.items[0].name")
			.isEqualTo("Anvil II")
			.jsonPath("$.items[0].version")
			.isEqualTo(2);

		this.http.delete().uri(location).exchange().expectStatus().isNoContent();
		this.http.get().uri(location).exchange().expectStatus().isNotFound();
	}

	/**
	 * An update leaves in Redis the product as the database stored it: the reads after a
	 * PUT and after a conditional PATCH are hits of the JSON they answered with, which is
	 * the JSON a read from the database serves (a new name, a removed description and the
	 * new timestamp included).
	 */
	@Test
	void anUpdateCachesExactlyWhatADatabaseReadServesOnPostgres() {
		long id = TestProducts.create(this.http, "Kettle", "20.00", 2);
		TestProducts.assertUpdatesCacheWhatTheDatabaseServes(this.http, id, """
				{"name": "Kettle II", "description": "", "price": 21.99, "stock_quantity": 5}""",
				() -> this.redis.delete(this.keys.key(id)));
	}

	@Test
	void listsSearchesFiltersAndSortsOnPostgres() {
		String token = "pg" + UUID.randomUUID().toString().substring(0, 8);
		for (String[] product : new String[][] { { "Lamp " + token, "30.00", "0" }, { "LAMP " + token, "10.00", "2" },
				{ "Lampshade " + token, "20.00", "5" }, { "Ünïcode Ä " + token, "5.00", "1" } }) {
			TestProducts.create(this.http, product[0], product[1], Integer.parseInt(product[2]));
		}

		assertThat(names("q=" + token + "&sort=-price")).containsExactly("Lamp " + token, "Lampshade " + token,
				"LAMP " + token, "Ünïcode Ä " + token);
		assertThat(names("name=lamp " + token)).containsExactly("Lamp " + token, "LAMP " + token);
		assertThat(names("name=ÜNÏCODE ä " + token)).containsExactly("Ünïcode Ä " + token);
		assertThat(names("q=" + token + "&min_price=10&max_price=20&in_stock=true&sort=name"))
			.containsExactly("LAMP " + token, "Lampshade " + token);
		this.http.get()
			.uri("/products?q=" + token + "&size=1&page=1")
			.exchange()
			.expectStatus()
			.isOk()
			.expectHeader()
			.value("Link", (link) -> assertThat(link).contains("rel=\"next\"").contains("rel=\"prev\""))
			.expectBody()
			.jsonPath("$.total_items")
			.isEqualTo(4)
			.jsonPath("$.total_pages")
			.isEqualTo(4);
	}

	@SuppressWarnings("unchecked")
	private List<String> names(String query) {
		Map<String, Object> page = this.http.get()
			.uri("/products?" + query)
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody(TestProducts.JSON_OBJECT)
			.returnResult()
			.getResponseBody();
		return ((List<Map<String, Object>>) page.get("items")).stream()
			.map((item) -> (String) item.get("name"))
			.toList();
	}

	/**
	 * On PostgreSQL two write transactions do run at once (SQLite takes one at a time).
	 * Two writers of one product still write one after the other: with If-Match the
	 * second finds the version changed and gets 412; without, its update applies after
	 * the other (it used to get a 409 when both had read the same version). The version
	 * counts every acknowledged update: none is lost.
	 */
	@Test
	void concurrentUpdatesOfOneVersionNeverLoseOneOnPostgres() throws Exception {
		HttpClient client = HttpClient.newHttpClient();
		ExecutorService pool = Executors.newFixedThreadPool(4);
		try {
			for (int round = 0; round < 10; round++) {
				boolean conditional = round % 2 == 0;
				long id = TestProducts.create(this.http, "Raced on Postgres", "1.00", 1);
				CountDownLatch start = new CountDownLatch(1);
				List<Future<Integer>> statuses = new ArrayList<>();
				for (String price : List.of("2.00", "3.00")) {
					statuses.add(pool.submit(() -> {
						HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url("/products/" + id)))
							.header("Content-Type", "application/merge-patch+json")
							.method("PATCH", HttpRequest.BodyPublishers.ofString("{\"price\": " + price + "}"));
						if (conditional) {
							request.header("If-Match", "\"0\"");
						}
						start.await();
						return client.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
					}));
				}
				start.countDown();
				List<Integer> answers = new ArrayList<>();
				for (Future<Integer> status : statuses) {
					answers.add(status.get());
				}
				long applied = answers.stream().filter((status) -> status == 200).count();
				if (conditional) {
					assertThat(answers).containsExactlyInAnyOrder(200, 412);
				}
				else {
					assertThat(answers).containsExactly(200, 200);
				}
				assertThat(TestProducts.read(this.http, id).getResponseBody()).containsEntry("version", (int) applied);
			}
		}
		finally {
			pool.shutdownNow();
		}
	}

	/**
	 * Two instances writing one product: each lets its own writers of the product through
	 * one at a time, and the row lock orders the two instances' writers. Every PUT
	 * applies, and both instances then serve the last one from the cache.
	 */
	@Test
	void everyConcurrentPutOfOneProductThroughTwoInstancesApplies(@Autowired Environment environment,
			@Autowired JdbcTemplate jdbc) throws Exception {
		long id = TestProducts.create(this.http, "Hot on two instances", "1.00", 0);
		TestProducts.read(this.http, id);
		try (SecondInstance other = SecondInstance.sharing(environment)) {
			int otherPort = ((WebServerApplicationContext) other.context()).getWebServer().getPort();
			List<Answer> answers = OneProductStorm.send(8, 50,
					(client, sequence) -> OneProductStorm.request((client % 2 == 0) ? this.port : otherPort, id)
						.header("Content-Type", "application/json")
						.PUT(HttpRequest.BodyPublishers
							.ofString("{\"stock_quantity\": %d}".formatted(1 + client * 50 + sequence))));

			assertThat(OneProductStorm.statuses(answers)).isEqualTo(Map.of(200, 400));
			assertThat(answers).extracting(Answer::version)
				.containsExactlyInAnyOrderElementsOf(LongStream.rangeClosed(1, 400).boxed().toList());
			int lastStock = answers.stream()
				.filter((answer) -> answer.version() == 400)
				.findFirst()
				.orElseThrow()
				.stock();
			assertThat(jdbc.queryForObject("SELECT stock_quantity FROM products WHERE id = ?", Integer.class, id))
				.isEqualTo(lastStock);
			for (RestTestClient instance : List.of(this.http, other.http())) {
				TestProducts.awaitCacheHit(instance, id);
				assertThat(TestProducts.read(instance, id).getResponseBody()).containsEntry("version", 400)
					.containsEntry("stock_quantity", lastStock);
			}
		}
	}

	/**
	 * The consistency auditor reads PostgreSQL through the same port: a planted lost
	 * invalidation is counted stale and served fresh within 5 s, and the full audit finds
	 * one that nobody reads.
	 */
	@Test
	void theAuditorFindsAndRepairsLostInvalidationsOnPostgres() {
		RestTestClient management = TestEnvironment.management(this.managementPort);
		long read = TestProducts.create(this.http, "Audited on Postgres", "1.00", 1);
		long unread = TestProducts.create(this.http, "Audited in full on Postgres", "1.00", 1);
		List<CacheAudits.Entry> replaced = new ArrayList<>();
		for (long id : List.of(read, unread)) {
			TestProducts.read(this.http, id);
			replaced.add(CacheAudits.entry(this.redis, this.keys.key(id)));
			TestProducts.update(this.http, id, "{\"price\": 2.00}");
		}
		double staleBefore = CacheAudits.sampled(management, "stale");
		long planted = System.nanoTime();
		replaced.forEach((entry) -> CacheAudits.plant(this.jdbc, this.redis, entry));
		assertThat(TestProducts.read(this.http, read).getResponseBody()).containsEntry("version", 0);

		Awaitility.await()
			.atMost(Duration.ofSeconds(5).minusNanos(System.nanoTime() - planted))
			.pollInterval(Duration.ofMillis(100))
			.until(() -> Integer.valueOf(1)
				.equals(TestProducts.read(this.http, read).getResponseBody().get("version")));
		Awaitility.await()
			.atMost(Duration.ofSeconds(5))
			.until(() -> CacheAudits.sampled(management, "stale") >= staleBefore + 1);

		Map<String, Object> full = CacheAudits.fullAudit(management);
		assertThat(full).containsEntry("state", "finished");
		assertThat(((Number) full.get("stale")).longValue()).isGreaterThanOrEqualTo(1);
		assertThat(TestProducts.read(this.http, unread).getResponseBody()).containsEntry("version", 1);
	}

	private String url(String path) {
		return "http://127.0.0.1:" + this.port + path;
	}

}
