package com.example.catalog.database;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.OneProductStorm;
import com.example.catalog.support.OneProductStorm.Answer;
import com.example.catalog.support.RedisFaultProxy;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue #26: many clients writing one product at once. Without {@code If-Match} every
 * write applies, one after the other, whatever the database (PostgreSQL used to answer
 * most of them 409); with it, one writer of a version wins and the others get 412.
 * Writers queue for the product while reads go on, and do not wait for a silent Redis
 * once per write. Run by {@link PostgresTests} and {@link SqliteWritesOfOneProductTests}
 * against their own databases, with a real Redis behind a fault proxy.
 */
interface WritesOfOneProductUnderContention {

	/** The proxy between the service and Redis; it passes everything between tests. */
	RedisFaultProxy redisProxy();

	/**
	 * The reproduction from the issue: 8 clients each sending 100 unconditional PUTs of
	 * one product. Each one is applied: the answers carry every version from 1 to 800
	 * exactly once, and the cache then serves the last one, as stored.
	 */
	@Test
	default void everyOneOfEightHundredConcurrentPutsOfOneProductApplies(@Autowired RestTestClient http,
			@Autowired JdbcTemplate jdbc, @LocalServerPort int port) throws Exception {
		long id = TestProducts.create(http, "Hot product", "1.00", 0);
		assertThat(TestProducts.read(http, id).getResponseBody()).containsEntry("version", 0);

		// Every body names a stock quantity no other does, so that each PUT changes the
		// product (a PUT that changes nothing keeps the version).
		List<Answer> answers = OneProductStorm.send(8, 100,
				(client, sequence) -> OneProductStorm.request(port, id)
					.header("Content-Type", "application/json")
					.PUT(HttpRequest.BodyPublishers
						.ofString("{\"stock_quantity\": %d}".formatted(1 + client * 100 + sequence))));

		assertThat(OneProductStorm.statuses(answers)).isEqualTo(Map.of(200, 800));
		assertThat(answers).extracting(Answer::version)
			.containsExactlyInAnyOrderElementsOf(LongStream.rangeClosed(1, 800).boxed().toList());
		int lastStock = answers.stream().filter((answer) -> answer.version() == 800).findFirst().orElseThrow().stock();
		assertThat(jdbc.queryForObject("SELECT version FROM products WHERE id = ?", Long.class, id)).isEqualTo(800);
		assertThat(jdbc.queryForObject("SELECT stock_quantity FROM products WHERE id = ?", Integer.class, id))
			.isEqualTo(lastStock);
		// The first read after the storm refills the cache, the second is served from it.
		TestProducts.read(http, id);
		http.get()
			.uri("/products/{id}", id)
			.exchange()
			.expectHeader()
			.valueEquals("X-Cache", "HIT")
			.expectHeader()
			.valueEquals("ETag", "\"800\"")
			.expectBody()
			.jsonPath("$.version")
			.isEqualTo(800)
			.jsonPath("$.stock_quantity")
			.isEqualTo(lastStock);
	}

	@Test
	default void everyOneOfManyConcurrentMergePatchesOfOneProductApplies(@Autowired RestTestClient http,
			@LocalServerPort int port) throws Exception {
		long id = TestProducts.create(http, "Patched product", "1.00", 1);
		TestProducts.read(http, id);

		List<Answer> answers = OneProductStorm.send(8, 25,
				(client, sequence) -> OneProductStorm.request(port, id)
					.header("Content-Type", "application/merge-patch+json")
					.method("PATCH", HttpRequest.BodyPublishers
						.ofString("{\"description\": \"patch %d of client %d\"}".formatted(sequence, client))));

		assertThat(OneProductStorm.statuses(answers)).isEqualTo(Map.of(200, 200));
		assertThat(answers).extracting(Answer::version)
			.containsExactlyInAnyOrderElementsOf(LongStream.rangeClosed(1, 200).boxed().toList());
		String last = answers.stream().filter((answer) -> answer.version() == 200).findFirst().orElseThrow().body();
		TestProducts.read(http, id);
		assertThat(http.get()
			.uri("/products/{id}", id)
			.exchange()
			.expectHeader()
			.valueEquals("X-Cache", "HIT")
			.expectBody(String.class)
			.returnResult()
			.getResponseBody()).isEqualTo(last);
	}

	/**
	 * Clients deleting the same product at once: one deletes it, the others find it gone
	 * (404), never a 409.
	 */
	@Test
	default void concurrentDeletesOfOneProductDeleteItOnceAndFindItGoneOtherwise(@Autowired RestTestClient http,
			@LocalServerPort int port) throws Exception {
		for (int round = 0; round < 10; round++) {
			long id = TestProducts.create(http, "Deleted product " + round, "1.00", 1);
			TestProducts.read(http, id);

			List<Answer> answers = OneProductStorm.send(8, 1,
					(client, sequence) -> OneProductStorm.request(port, id).DELETE());

			assertThat(OneProductStorm.statuses(answers)).as("round %d", round).isEqualTo(Map.of(204, 1, 404, 7));
			http.get().uri("/products/{id}", id).exchange().expectStatus().isNotFound();
		}
	}

	/**
	 * {@code If-Match} keeps its meaning under contention: of the clients that name the
	 * same version at once, one writes and the others get 412, also once the winner's
	 * write let them through the product's queue.
	 */
	@Test
	default void concurrentWritesWithTheSameIfMatchLetOneWinAndRefuseTheOthers(@Autowired RestTestClient http,
			@LocalServerPort int port) throws Exception {
		for (int round = 0; round < 5; round++) {
			long id = TestProducts.create(http, "Conditional product " + round, "1.00", 1);
			TestProducts.read(http, id);

			List<Answer> answers = OneProductStorm.send(8, 1,
					(client, sequence) -> OneProductStorm.request(port, id)
						.header("Content-Type", "application/json")
						.header("If-Match", "\"0\"")
						.PUT(HttpRequest.BodyPublishers.ofString("{\"stock_quantity\": %d}".formatted(100 + client))));
			List<Answer> deletes = OneProductStorm.send(8, 1,
					(client, sequence) -> OneProductStorm.request(port, id).header("If-Match", "\"0\"").DELETE());

			assertThat(OneProductStorm.statuses(answers)).as("round %d", round).isEqualTo(Map.of(200, 1, 412, 7));
			assertThat(OneProductStorm.statuses(deletes)).as("round %d, stale deletes", round)
				.isEqualTo(Map.of(412, 8));
			assertThat(TestProducts.read(http, id).getResponseBody()).containsEntry("version", 1);
		}
	}

	/**
	 * Redis stops answering in the middle of a write storm on one product. The
	 * provisional marker is written with the row locked, but only while Redis answered
	 * its last command: the write that finds out waits one command timeout (2 s in these
	 * tests), the ones after it skip the marker and keep their invalidation for later.
	 * Every write applies, the storm is not held up once per write (that would take 400 s
	 * here), and once Redis answers again the cache serves the last write.
	 */
	@Test
	default void aRedisThatStopsAnsweringHoldsUpTheWritersOfOneProductOnceNotPerWrite(@Autowired RestTestClient http,
			@LocalServerPort int port) throws Exception {
		long id = TestProducts.create(http, "Written while Redis is silent", "1.00", 0);
		TestProducts.read(http, id);
		TestProducts.awaitCacheHit(http, id);

		redisProxy().blackhole();
		List<Answer> answers;
		long millis;
		try {
			long start = System.nanoTime();
			answers = OneProductStorm.send(8, 25,
					(client, sequence) -> OneProductStorm.request(port, id)
						.header("Content-Type", "application/json")
						.PUT(HttpRequest.BodyPublishers
							.ofString("{\"stock_quantity\": %d}".formatted(1 + client * 25 + sequence))));
			millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
		}
		finally {
			redisProxy().pass();
		}

		assertThat(OneProductStorm.statuses(answers)).isEqualTo(Map.of(200, 200));
		assertThat(answers).extracting(Answer::version)
			.containsExactlyInAnyOrderElementsOf(LongStream.rangeClosed(1, 200).boxed().toList());
		assertThat(millis).as("milliseconds for 200 writes while Redis was silent").isLessThan(30_000);
		int lastStock = answers.stream().filter((answer) -> answer.version() == 200).findFirst().orElseThrow().stock();
		TestProducts.awaitCacheHit(http, id);
		assertThat(TestProducts.read(http, id).getResponseBody()).containsEntry("version", 200)
			.containsEntry("stock_quantity", lastStock);
	}

	/**
	 * While 16 clients write one product, reads of other products (and of their list,
	 * whose cached pages every write retires, so each read of it goes to the database)
	 * and of the hot product keep answering promptly. Writers of one product wait for
	 * each other in this instance, not at the pool of database connections: at most one
	 * of them is ever at the pool.
	 */
	@Test
	default void readersKeepAnsweringWhileWritersQueueForOneProduct(@Autowired RestTestClient http,
			@Autowired DataSource dataSource, @LocalServerPort int port) throws Exception {
		HikariPoolMXBean writePool = dataSource.unwrap(HikariDataSource.class).getHikariPoolMXBean();
		String token = "readers" + UUID.randomUUID().toString().substring(0, 8);
		long hot = TestProducts.create(http, "Hot " + token, "1.00", 0);
		TestProducts.read(http, hot);
		List<Long> others = new ArrayList<>();
		for (int i = 0; i < 20; i++) {
			others.add(TestProducts.create(http, "Other " + token + " " + i, "2.00", 1));
		}

		OneProductStorm writers = OneProductStorm.start(16, 25,
				(client, sequence) -> OneProductStorm.request(port, hot)
					.header("Content-Type", "application/json")
					.PUT(HttpRequest.BodyPublishers
						.ofString("{\"stock_quantity\": %d}".formatted(1 + client * 25 + sequence))));
		HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
		ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
		AtomicInteger reads = new AtomicInteger();
		AtomicInteger atThePool = new AtomicInteger();
		AtomicInteger slowest = new AtomicInteger();
		ExecutorService readers = Executors.newFixedThreadPool(5);
		List<Future<?>> running = new ArrayList<>();
		running.add(readers.submit(() -> {
			while (!writers.isDone()) {
				atThePool.accumulateAndGet(writePool.getThreadsAwaitingConnection(), Math::max);
				Thread.sleep(1);
			}
			return null;
		}));
		for (int reader = 0; reader < 4; reader++) {
			int first = reader;
			running.add(readers.submit(() -> {
				for (int i = first; !writers.isDone(); i++) {
					String path = switch (i % 3) {
						case 0 -> "/products/" + others.get(i % others.size());
						case 1 -> "/products?q=" + token + "&page=" + (i % 4) + "&size=5";
						default -> "/products/" + hot;
					};
					long start = System.nanoTime();
					HttpResponse<String> response = client.send(
							HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
							HttpResponse.BodyHandlers.ofString());
					int millis = (int) TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
					slowest.accumulateAndGet(millis, Math::max);
					reads.incrementAndGet();
					if (response.statusCode() != 200 || millis > 2_000) {
						problems.add("GET %s: %d in %d ms".formatted(path, response.statusCode(), millis));
					}
				}
				return null;
			}));
		}
		List<Answer> answers = writers.answers();
		for (Future<?> reader : running) {
			reader.get(30, TimeUnit.SECONDS);
		}
		readers.shutdown();

		System.out.println("READERS DURING A WRITE STORM: " + reads.get() + " reads, slowest " + slowest.get()
				+ " ms, most threads at the pool at once " + atThePool.get());
		assertThat(OneProductStorm.statuses(answers)).isEqualTo(Map.of(200, 400));
		assertThat(problems).as("reads that failed or took more than 2 s").isEmpty();
		assertThat(reads.get()).as("reads answered during the storm").isGreaterThan(20);
		// Hikari counts a borrower as waiting as soon as its thread's own shortcut
		// misses,
		// even if it then finds a free connection at once: the 4 readers (on PostgreSQL;
		// on SQLite they have a pool of their own) and the one writer whose turn it is
		// may show up. Without the turns the hot product's writers queued there: 10 on
		// PostgreSQL's pool of 10, 15 for SQLite's one write connection.
		assertThat(atThePool.get()).as("threads borrowing or waiting for a database connection at once")
			.isLessThanOrEqualTo(4 + 1);
	}

}
