package com.example.catalog.cache;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.Test;

import com.example.catalog.support.DirectRedis;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The provisional markers of several products updated in one transaction (SQLite's group
 * commit) are in Redis before the commit, each with the version being committed, and are
 * taken back if the transaction rolls back, as a single product's are.
 */
@IntegrationTest
class ProvisionalMarkersTests {

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
	}

	@Autowired
	private ProductInvalidations invalidations;

	@Autowired
	private ProductKeys keys;

	private final StringRedisTemplate redis = DirectRedis.template();

	@Test
	void markersPreparedTogetherAreInRedisBeforeTheCommitAndStayAfterIt(@Autowired PlatformTransactionManager manager) {
		Map<Long, Long> versions = versions();
		Map<Long, Map<Object, Object>> seenBeforeCommit = new LinkedHashMap<>();

		new TransactionTemplate(manager).executeWithoutResult((status) -> {
			this.invalidations.prepareInvalidations(versions);
			versions.keySet().forEach((id) -> seenBeforeCommit.put(id, marker(id)));
		});

		versions.forEach((id, version) -> {
			assertThat(seenBeforeCommit.get(id)).containsEntry("state", "pending")
				.containsEntry("version", Long.toString(version));
			assertThat(marker(id)).containsEntry("state", "pending").containsEntry("version", Long.toString(version));
			assertThat(this.redis.getExpire(this.keys.key(id))).as("TTL of %d, s", id).isPositive();
		});
	}

	@Test
	void markersPreparedTogetherAreTakenBackWhenTheTransactionRollsBack(@Autowired PlatformTransactionManager manager) {
		Map<Long, Long> versions = versions();
		Map<Long, Map<Object, Object>> seenBeforeRollback = new LinkedHashMap<>();

		new TransactionTemplate(manager).executeWithoutResult((status) -> {
			this.invalidations.prepareInvalidations(versions);
			versions.keySet().forEach((id) -> seenBeforeRollback.put(id, marker(id)));
			status.setRollbackOnly();
		});

		versions.forEach((id, version) -> {
			assertThat(seenBeforeRollback.get(id)).containsEntry("state", "pending");
			assertThat(this.redis.hasKey(this.keys.key(id))).as("marker of %d after the rollback", id).isFalse();
		});
	}

	@Test
	void markersPreparedTogetherAreWrittenByARedisThatForgotItsScripts(@Autowired PlatformTransactionManager manager) {
		Map<Long, Long> versions = versions();
		// What a restart of a Redis that keeps nothing on disk leaves of the scripts.
		this.redis.execute((RedisCallback<Void>) (connection) -> {
			connection.scriptingCommands().scriptFlush();
			return null;
		});

		new TransactionTemplate(manager)
			.executeWithoutResult((status) -> this.invalidations.prepareInvalidations(versions));

		versions.forEach((id, version) -> assertThat(marker(id)).containsEntry("state", "pending")
			.containsEntry("version", Long.toString(version)));
	}

	private Map<Object, Object> marker(long id) {
		return this.redis.opsForHash().entries(this.keys.key(id));
	}

	// Ids no product has: only the markers are under test.
	private static Map<Long, Long> versions() {
		long first = ThreadLocalRandom.current().nextLong(1_000_000_000L, 2_000_000_000L);
		Map<Long, Long> versions = new LinkedHashMap<>();
		for (int i = 0; i < 5; i++) {
			versions.put(first + i, 3L + i);
		}
		return versions;
	}

}
