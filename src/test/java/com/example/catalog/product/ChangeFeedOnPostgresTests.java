package com.example.catalog.product;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import io.micrometer.core.instrument.MeterRegistry;
import org.postgresql.PGConnection;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.CacheAudits;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.SecondInstance;
import com.example.catalog.support.TestPostgres;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The change feed on PostgreSQL: an outside writer is another session, and LISTEN/NOTIFY
 * wakes the feed at its commit.
 */
@IntegrationTest
@Order(4) // among the longest classes: started first (junit-platform.properties)
class ChangeFeedOnPostgresTests extends ChangeFeedTests {

	private static final String SCHEMA = TestPostgres.newSchemaName();

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestPostgres.register(registry, SCHEMA);
		registry.add("catalog.feed.max-lag", () -> "1s");
	}

	@Autowired
	private RestTestClient http;

	@Autowired
	private Environment environment;

	@Autowired
	private MeterRegistry meters;

	@Value("${spring.datasource.url}")
	private String databaseUrl;

	@Autowired
	private JdbcTemplate jdbc;

	/**
	 * Several instances share the work: one at a time applies a batch (it locks the
	 * cursor's row), so each change costs Redis one mark however many instances run.
	 */
	@Test
	void twoInstancesApplyEachChangeOnce() throws SQLException {
		List<Long> ids = TestProducts.createAndRead(this.http, "Shared feed", "1.00", 5);
		try (SecondInstance other = SecondInstance.sharing(this.environment)) {
			MeterRegistry otherMeters = other.context().getBean(MeterRegistry.class);
			await().atMost(Duration.ofSeconds(5)).until(() -> CacheAudits.everyChangeApplied(this.jdbc));
			double before = applied(this.meters) + applied(otherMeters);
			try (Connection connection = DriverManager.getConnection(this.databaseUrl);
					PreparedStatement update = connection
						.prepareStatement("UPDATE products SET price_cents = price_cents + 1 WHERE id = ?")) {
				for (int round = 0; round < 4; round++) {
					for (long id : ids) {
						update.setLong(1, id);
						update.executeUpdate();
					}
				}
			}
			await().atMost(Duration.ofSeconds(5))
				.until(() -> applied(this.meters) + applied(otherMeters) >= before + 20);
			// Both instances were woken by every commit; neither applied what the other
			// did.
			await().during(Duration.ofMillis(1500))
				.atMost(Duration.ofSeconds(3))
				.until(() -> applied(this.meters) + applied(otherMeters) == before + 20);
		}
	}

	/**
	 * A notification wakes the feed at the commit: a change made just after the feed read
	 * the table, once the gap between notified reads has passed, is served within
	 * milliseconds, not at the feed's next read without a notification (a second later).
	 */
	@Test
	void aChangeAfterAQuietSpellIsServedLongBeforeTheNextReadWithoutANotification()
			throws SQLException, InterruptedException {
		long id = cachedProduct();
		await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(1)).until(() -> this.feed.lag() < 10);
		Thread.sleep(50);
		sql("UPDATE products SET price_cents = 456 WHERE id = ?", id);
		await().atMost(Duration.ofMillis(400))
			.pollInterval(Duration.ofMillis(5))
			.untilAsserted(() -> assertThat(TestProducts.read(this.http, id).getResponseBody().get("price"))
				.hasToString("4.56"));
	}

	/**
	 * The service's own writes notify no feed: each instance has already put what it
	 * committed in Redis (the feed still applies those changes, at its next read), and a
	 * notification makes PostgreSQL commit the notifying transactions one at a time. A
	 * writer outside the service still wakes the feeds at once.
	 */
	@Test
	void theServicesOwnWritesNotifyNoFeedButAnOutsideWriteDoes() throws SQLException {
		long id = cachedProduct();
		try (Connection listener = connect(); Statement listen = listener.createStatement()) {
			listen.execute("LISTEN product_changes");
			PGConnection notifications = listener.unwrap(PGConnection.class);
			notifications.getNotifications(100);
			long created = TestProducts.create(this.http, "Quiet writer", "1.00", 1);
			TestProducts.update(this.http, id, "{\"price\": 3.21}");
			this.http.delete().uri("/products/{id}", created).exchange().expectStatus().isNoContent();
			assertThat(notifications.getNotifications(500)).isEmpty();
			sql("UPDATE products SET price_cents = 654 WHERE id = ?", id);
			assertThat(notifications.getNotifications(2000)).hasSize(1);
		}
	}

	private static double applied(MeterRegistry meters) {
		return meters.get("catalog.feed.changes").counter().count();
	}

	@AfterAll
	static void dropSchema() throws SQLException {
		TestPostgres.dropSchema(SCHEMA);
	}

}
