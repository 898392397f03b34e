package com.example.catalog.product;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Updates of different products that wait for SQLite's one write connection commit
 * together, and each still gets its own answer: one refused by its precondition, one of a
 * product that does not exist, one the database rejects. Another process holds SQLite's
 * write lock while the updates arrive, so that they queue.
 */
@IntegrationTest
@Order(4) // among the longest classes: started first (junit-platform.properties)
class UpdateBatchesTests {

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
	}

	@Autowired
	private RestTestClient http;

	@LocalServerPort
	private int port;

	@Value("${spring.datasource.url}")
	private String databaseUrl;

	private final HttpClient client = HttpClient.newHttpClient();

	@Test
	void updatesThatWaitedForTheDatabaseCommitTogetherAndAreServedFromTheCache(@Autowired MeterRegistry meters)
			throws Exception {
		List<Long> ids = TestProducts.createAndRead(this.http, "Queued update", "1.00", 20);
		DistributionSummary perTransaction = meters.get("catalog.database.updates_per_transaction").summary();
		long transactionsBefore = perTransaction.count();
		double updatesBefore = perTransaction.totalAmount();

		Map<Long, HttpResponse<String>> answers = whileAnotherProcessHoldsTheWriteLock(
				ids.stream().map((id) -> new Put(id, "{\"stock_quantity\": %d}".formatted(100 + id), null)).toList());

		for (long id : ids) {
			assertThat(answers.get(id).statusCode()).as("PUT %d", id).isEqualTo(200);
			assertThat(answers.get(id).body()).contains("\"version\":1");
			TestProducts.awaitCacheHit(this.http, id);
			assertThat(TestProducts.read(this.http, id).getResponseBody()).containsEntry("version", 1)
				.containsEntry("stock_quantity", (int) (100 + id));
		}
		assertThat(perTransaction.totalAmount() - updatesBefore).isEqualTo(20);
		// The first may have been taken alone, before the others came.
		assertThat(perTransaction.count() - transactionsBefore).as("transactions for 20 updates").isLessThan(5);
	}

	@Test
	void anUpdateRefusedInATransactionOfSeveralFailsAloneAndTheOthersApply() throws Exception {
		List<Long> ids = TestProducts.createAndRead(this.http, "Refused among others", "1.00", 6);
		long missing = ids.get(5) + 1_000_000;
		List<Put> puts = new ArrayList<>();
		for (int i = 0; i < 4; i++) {
			puts.add(new Put(ids.get(i), "{\"price\": 2.00}", null));
		}
		// It holds version 0, not 7: 412.
		puts.add(new Put(ids.get(4), "{\"price\": 3.00}", "\"7\""));
		puts.add(new Put(missing, "{\"price\": 3.00}", null));

		Map<Long, HttpResponse<String>> answers = whileAnotherProcessHoldsTheWriteLock(puts);

		for (int i = 0; i < 4; i++) {
			assertThat(answers.get(ids.get(i)).statusCode()).isEqualTo(200);
			assertThat(TestProducts.read(this.http, ids.get(i)).getResponseBody()).containsEntry("version", 1)
				.containsEntry("price", 2.0);
		}
		assertThat(answers.get(ids.get(4)).statusCode()).isEqualTo(412);
		assertThat(TestProducts.read(this.http, ids.get(4)).getResponseBody()).containsEntry("version", 0)
			.containsEntry("price", 1.0);
		assertThat(answers.get(missing).statusCode()).isEqualTo(404);
	}

	@Test
	void anUpdateTheDatabaseRejectsInATransactionOfSeveralFailsAloneAndTheOthersApply() throws Exception {
		List<Long> ids = TestProducts.createAndRead(this.http, "Rejected among others", "1.00", 5);
		try (Connection connection = DriverManager.getConnection(this.databaseUrl);
				Statement statement = connection.createStatement()) {
			statement.execute("CREATE TRIGGER reject_stock_999 BEFORE UPDATE ON products"
					+ " WHEN NEW.stock_quantity = 999 BEGIN SELECT RAISE(ABORT, 'rejected by the test'); END");
		}
		try {
			List<Put> puts = new ArrayList<>();
			for (int i = 0; i < 4; i++) {
				puts.add(new Put(ids.get(i), "{\"stock_quantity\": 5}", null));
			}
			puts.add(new Put(ids.get(4), "{\"stock_quantity\": 999}", null));

			Map<Long, HttpResponse<String>> answers = whileAnotherProcessHoldsTheWriteLock(puts);

			for (int i = 0; i < 4; i++) {
				assertThat(answers.get(ids.get(i)).statusCode()).as("PUT %d", ids.get(i)).isEqualTo(200);
				TestProducts.awaitCacheHit(this.http, ids.get(i));
				assertThat(TestProducts.read(this.http, ids.get(i)).getResponseBody()).containsEntry("version", 1)
					.containsEntry("stock_quantity", 5);
			}
			assertThat(answers.get(ids.get(4)).statusCode()).isEqualTo(500);
			assertThat(TestProducts.read(this.http, ids.get(4)).getResponseBody()).containsEntry("version", 0)
				.containsEntry("stock_quantity", 1);
		}
		finally {
			try (Connection connection = DriverManager.getConnection(this.databaseUrl);
					Statement statement = connection.createStatement()) {
				statement.execute("DROP TRIGGER reject_stock_999");
			}
		}
	}

	/**
	 * Sends the updates while a connection of this test holds SQLite's write lock, as
	 * another process would, and lets go once they all wait for it (well within the 5 s
	 * busy timeout). The answers by product id.
	 */
	private Map<Long, HttpResponse<String>> whileAnotherProcessHoldsTheWriteLock(List<Put> puts) throws Exception {
		Map<Long, CompletableFuture<HttpResponse<String>>> sent = new HashMap<>();
		try (Connection connection = DriverManager.getConnection(this.databaseUrl);
				Statement lock = connection.createStatement()) {
			lock.execute("BEGIN IMMEDIATE");
			try {
				for (Put put : puts) {
					HttpRequest.Builder request = HttpRequest
						.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/products/" + put.id()))
						.header("Content-Type", "application/json")
						.PUT(HttpRequest.BodyPublishers.ofString(put.body()));
					if (put.ifMatch() != null) {
						request.header("If-Match", put.ifMatch());
					}
					sent.put(put.id(), this.client.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString()));
				}
				Thread.sleep(1_000);
			}
			finally {
				lock.execute("ROLLBACK");
			}
		}
		Map<Long, HttpResponse<String>> answers = new HashMap<>();
		for (Map.Entry<Long, CompletableFuture<HttpResponse<String>>> answer : sent.entrySet()) {
			answers.put(answer.getKey(), answer.getValue().get(30, TimeUnit.SECONDS));
		}
		return answers;
	}

	/** A PUT of this body, with this If-Match header (null for none). */
	private record Put(long id, String body, String ifMatch) {

	}

}
