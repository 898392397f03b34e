package com.example.catalog.cache;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.example.catalog.support.CacheAudits;
import com.example.catalog.support.DirectRedis;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.http.MediaType;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the service does with keys it did not write the way it writes them: planted by
 * someone who can write to Redis, left by an older release, or from commits the database
 * lost. With a 1 s TTL, so that markers must outlive it on their own.
 */
@IntegrationTest
class CacheHygieneTests {

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
		registry.add("catalog.cache.ttl", () -> "1s");
	}

	@Autowired
	private RestTestClient http;

	@Autowired
	private ProductKeys keys;

	@Autowired
	private CacheProperties properties;

	private final StringRedisTemplate redis = DirectRedis.template();

	@Autowired
	private JdbcTemplate jdbc;

	@Test
	void aDeletionMarkerWithoutTtlCannotPinAProduct() {
		long id = created("Pinned", "3.00", 1);
		this.redis.delete(this.keys.key(id));
		this.redis.opsForHash()
			.putAll(this.keys.key(id), Map.of("state", "deleted", "version", Long.toString(Long.MAX_VALUE)));

		assertThat(TestProducts.read(this.http, id).getResponseBody()).containsEntry("name", "Pinned");
		assertEveryKeyHasABoundedTtl(id);
	}

	@Test
	void aWellFormedValueWithoutTtlIsServedAFewTimesAtMostThenDropped() {
		long id = created("Planted", "3.00", 1);
		this.redis.delete(this.keys.key(id));
		this.redis.opsForHash()
			.putAll(this.keys.key(id), Map.of("state", "value", "version", "0", "json",
					"{\"id\":%d,\"name\":\"Forever\",\"version\":0}".formatted(id)));

		// A hit's HMGET does not see the TTL; about one hit in 32 checks it in the
		// background.
		long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
		int reads = 0;
		while (!"Planted".equals(TestProducts.read(this.http, id).getResponseBody().get("name"))) {
			assertThat(System.nanoTime()).as("still served after %d reads", reads).isLessThan(deadline);
			reads++;
		}
		assertThat(reads).isLessThan(1000);
		assertEveryKeyHasABoundedTtl(id);
	}

	@Test
	void aMarkerWithAnOverlongTtlCannotBlockFillsBeyondTheMarkerLifetime() {
		long id = created("Blocked", "3.00", 1);
		this.redis.delete(this.keys.key(id));
		this.redis.opsForHash().putAll(this.keys.key(id), Map.of("state", "stale", "version", "999999999"));
		this.redis.expire(this.keys.key(id), Duration.ofDays(3650));

		assertThat(TestProducts.read(this.http, id).getResponseBody()).containsEntry("name", "Blocked");
		assertThat(this.redis.opsForHash().get(this.keys.key(id), "version")).isNotEqualTo("999999999");
		assertEveryKeyHasABoundedTtl(id);
	}

	@Test
	void malformedEntriesAreAMissAndReplaced() {
		for (Map<String, String> malformed : new Map[] { Map.of("state", "value", "version", "0"),
				Map.of("state", "bogus", "version", "5"), Map.of("state", "value", "version", "x", "json", "{}") }) {
			long id = created("Plain", "3.00", 1);
			this.redis.delete(this.keys.key(id));
			this.redis.opsForHash().putAll(this.keys.key(id), malformed);
			this.redis.expire(this.keys.key(id), Duration.ofSeconds(60));

			assertThat(TestProducts.read(this.http, id).getResponseBody()).as("with %s", malformed)
				.containsEntry("name", "Plain");
			Object state = this.redis.opsForHash().get(this.keys.key(id), "state");
			Object json = this.redis.opsForHash().get(this.keys.key(id), "json");
			assertThat(state).as("state replacing %s", malformed).isIn("value", null);
			if (state != null) {
				assertThat((String) json).as("json replacing %s", malformed).contains("\"name\":\"Plain\"");
			}
		}
		long id = created("String", "3.00", 1);
		this.redis.opsForValue().set(this.keys.key(id), "garbage");
		assertThat(TestProducts.read(this.http, id).getResponseBody()).containsEntry("name", "String");
	}

	@Test
	void anEntryOfARepeatedVersionIsReplacedByTheWriteThatRepeatsIt() {
		long id = created("Restored", "5.00", 1);
		// An entry of version 1 from a commit that the database lost (a restore, say).
		this.redis.delete(this.keys.key(id));
		this.redis.opsForHash()
			.putAll(this.keys.key(id), Map.of("state", "value", "version", "1", "json",
					"{\"id\":%d,\"name\":\"Lost commit\",\"version\":1}".formatted(id)));
		this.redis.expire(this.keys.key(id), Duration.ofSeconds(60));

		this.http.put().uri("/products/{id}", id).contentType(MediaType.APPLICATION_JSON).body("""
				{"price": 6.00}""").exchange().expectStatus().isOk();

		Map<String, Object> read = TestProducts.read(this.http, id).getResponseBody();
		assertThat(read).containsEntry("name", "Restored").containsEntry("version", 1);
	}

	@Test
	void markersLiveForMinutesEvenWithAOneSecondTtl() {
		long id = created("Short", "3.00", 1);
		this.http.put().uri("/products/{id}", id).contentType(MediaType.APPLICATION_JSON).body("""
				{"price": 4.00}""").exchange().expectStatus().isOk();

		assertThat(this.redis.opsForHash().get(this.keys.key(id), "state")).isEqualTo("stale");
		assertThat(this.redis.getExpire(this.keys.key(id), TimeUnit.SECONDS)).isGreaterThanOrEqualTo(240);
	}

	@Test
	void keysCarryTheCachedFormatSoAnOlderReleasesEntriesAreNotServed() {
		long id = created("Shaped", "3.00", 1);
		String untagged = this.properties.keyPrefix() + id;
		assertThat(this.keys.key(id)).startsWith(this.properties.keyPrefix()).isNotEqualTo(untagged);
		this.redis.opsForHash()
			.putAll(untagged, Map.of("state", "value", "version", "0", "json", "{\"old\":\"shape\"}"));
		this.redis.expire(untagged, Duration.ofSeconds(60));

		assertThat(TestProducts.read(this.http, id).getResponseBody()).containsEntry("name", "Shaped");
	}

	private void assertEveryKeyHasABoundedTtl(long id) {
		long ttl = this.redis.getExpire(this.keys.key(id), TimeUnit.SECONDS);
		// -2: gone (a 1 s entry may already have expired); never -1 (no TTL).
		assertThat(ttl).isNotEqualTo(-1L).isLessThanOrEqualTo(600);
	}

	/**
	 * A product whose creation the change feed has already applied: otherwise the feed's
	 * marker can land between a test's DEL and its HSET, and give the planted fields a
	 * TTL (seen once on a loaded machine).
	 */
	private long created(String name, String price, int stock) {
		long id = TestProducts.create(this.http, name, price, stock);
		CacheAudits.awaitEveryChangeApplied(this.jdbc);
		return id;
	}

}
