package com.example.catalog.support;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the consistency auditor's tests share: planting a lost invalidation (the entry a
 * write replaced, written back into Redis, as a fail-over that drops a marker leaves it,
 * after the change feed applied that write), reading the auditor's counters from
 * {@code /actuator/prometheus}, and running the full audit through
 * {@code /actuator/cacheaudit}.
 */
public final class CacheAudits {

	private CacheAudits() {
	}

	/** A product's entry in Redis as it is now: its fields and its TTL. */
	public static Entry entry(StringRedisTemplate redis, String key) {
		Map<String, String> fields = new HashMap<>();
		redis.<String, String>opsForHash().entries(key).forEach(fields::put);
		Long ttl = redis.getExpire(key, TimeUnit.MILLISECONDS);
		assertThat(fields).as("entry %s", key).containsEntry("state", "value");
		return new Entry(key, fields, (ttl != null && ttl > 0) ? ttl : 3_600_000);
	}

	/**
	 * Writes an entry back as it was, over whatever marker a later write left: a lost
	 * invalidation. First waits until the change feed has applied every change: a marker
	 * lost before that would be put back by the feed (its job), not found by the auditor.
	 */
	public static void plant(JdbcTemplate database, StringRedisTemplate redis, Entry entry) {
		awaitEveryChangeApplied(database);
		redis.delete(entry.key());
		redis.opsForHash().putAll(entry.key(), entry.fields());
		redis.expire(entry.key(), Duration.ofMillis(entry.ttlMillis()));
	}

	/**
	 * Waits until the change feed has applied every change in the table, so that what it
	 * does about the service's own writes (a marker, a new generation of the list pages)
	 * cannot land in the middle of what a test does next.
	 */
	public static void awaitEveryChangeApplied(JdbcTemplate database) {
		await().atMost(Duration.ofSeconds(10))
			.pollInterval(Duration.ofMillis(20))
			.until(() -> everyChangeApplied(database));
	}

	/**
	 * Whether the change feed has applied every change in the table: none sorts after a
	 * cache's cursor.
	 */
	public static boolean everyChangeApplied(JdbcTemplate database) {
		return database.queryForObject(
				"SELECT count(*) FROM product_changes c JOIN product_change_cursor k ON (c.tx, c.seq) > (k.tx, k.seq)",
				Long.class) == 0;
	}

	/**
	 * The value of one Prometheus series on the management port, e.g.
	 * {@code catalog_cache_audit_total{audit="sampled",result="stale"}}; 0 if absent.
	 */
	public static double metric(RestTestClient management, String series) {
		String metrics = management.get()
			.uri("/actuator/prometheus")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody(String.class)
			.returnResult()
			.getResponseBody();
		Matcher value = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(metrics);
		return value.find() ? Double.parseDouble(value.group(1)) : 0;
	}

	/** Counted checks of the sampled audit with this result. */
	public static double sampled(RestTestClient management, String result) {
		return metric(management, "catalog_cache_audit_total{audit=\"sampled\",result=\"" + result + "\"}");
	}

	/**
	 * Starts a full audit with a {@code POST}, waits (up to 30 s) until a {@code GET}
	 * says it ended, and returns that report's {@code full} part.
	 */
	@SuppressWarnings("unchecked")
	public static Map<String, Object> fullAudit(RestTestClient management) {
		Map<String, Object> started = management.post()
			.uri("/actuator/cacheaudit")
			.exchange()
			.expectStatus()
			.is2xxSuccessful()
			.expectBody(TestProducts.JSON_OBJECT)
			.returnResult()
			.getResponseBody();
		assertThat(started).containsEntry("request", "started");
		Map<String, Object>[] report = new Map[1];
		await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
			Map<String, Object> body = management.get()
				.uri("/actuator/cacheaudit")
				.exchange()
				.expectStatus()
				.isOk()
				.expectBody(TestProducts.JSON_OBJECT)
				.returnResult()
				.getResponseBody();
			report[0] = (Map<String, Object>) body.get("full");
			return !"running".equals(report[0].get("state"));
		});
		return report[0];
	}

	/**
	 * An entry as Redis held it.
	 *
	 * @param key its key
	 * @param fields its hash fields
	 * @param ttlMillis its TTL
	 */
	public record Entry(String key, Map<String, String> fields, long ttlMillis) {

		public long version() {
			return Long.parseLong(this.fields.get("version"));
		}

	}

}
