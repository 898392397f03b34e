package com.example.catalog.cache;

import java.time.Duration;

import jakarta.persistence.EntityManagerFactory;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.CacheAudits;
import com.example.catalog.support.DatabaseStatements;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The audit's budget: with every hit sampled and at most {@value #BUDGET} checks a
 * second, a burst of hits costs the database at most that many queries a second; the rest
 * are counted as skipped.
 */
@IntegrationTest
class CacheAuditBudgetTests {

	private static final int BUDGET = 3;

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
		registry.add("catalog.cache.audit.sample", () -> "1.0");
		registry.add("catalog.cache.audit.max-per-second", () -> Integer.toString(BUDGET));
	}

	@Autowired
	private RestTestClient http;

	@Autowired
	private CacheAuditor auditor;

	@LocalManagementPort
	private int managementPort;

	@Test
	void aBurstOfHitsCostsTheDatabaseNoMoreThanTheBudget(@Autowired EntityManagerFactory entityManagerFactory) {
		RestTestClient management = TestEnvironment.management(this.managementPort);
		DatabaseStatements statements = new DatabaseStatements(entityManagerFactory);
		long id = TestProducts.create(this.http, "Budgeted", "1.00", 1);
		TestProducts.awaitCacheHit(this.http, id);
		await().atMost(Duration.ofSeconds(10)).until(() -> this.auditor.checksUnderWay() == 0);
		double checkedBefore = checked(management);
		double skippedBefore = skipped(management);
		long statementsBefore = statements.count();

		long started = System.nanoTime();
		int hits = 200;
		for (int i = 0; i < hits; i++) {
			this.http.get().uri("/products/{id}", id).exchange().expectHeader().valueEquals("X-Cache", "HIT");
		}
		long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds() + 1;
		await().atMost(Duration.ofSeconds(10)).until(() -> this.auditor.checksUnderWay() == 0);

		double checked = checked(management) - checkedBefore;
		double skipped = skipped(management) - skippedBefore;
		long auditQueries = statements.count() - statementsBefore;
		System.out.printf("AUDIT BUDGET: %d hits in under %d s: %.0f checked, %.0f skipped, %d database queries%n",
				hits, seconds, checked, skipped, auditQueries);
		// A rate limiter's periods are whole seconds: a burst can straddle one more.
		long allowed = BUDGET * (seconds + 1);
		assertThat(checked).isPositive().isLessThanOrEqualTo(allowed);
		assertThat(auditQueries).as("database queries, all of them the audit's").isLessThanOrEqualTo(allowed);
		assertThat(checked + skipped).isEqualTo(hits);
	}

	private static double checked(RestTestClient management) {
		return CacheAudits.sampled(management, "consistent") + CacheAudits.sampled(management, "stale");
	}

	private static double skipped(RestTestClient management) {
		return CacheAudits.metric(management, "catalog_cache_audit_skipped_total{reason=\"budget\"}");
	}

}
