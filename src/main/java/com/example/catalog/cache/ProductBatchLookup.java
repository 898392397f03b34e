package com.example.catalog.cache;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

import org.springframework.boot.data.redis.autoconfigure.DataRedisProperties;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.RedisTemplate;
import org.springframework.stereotype.Component;

import static com.example.catalog.cache.ProductKeys.bytes;
import static com.example.catalog.cache.ProductKeys.digits;

/**
 * Looks many products up at once, for a batch read: the near cache first, then one
 * {@code HMGET} per remaining id, all sent together on Lettuce's async API before any
 * answer is awaited, so the batch costs one round trip to Redis (on a Cluster, Lettuce
 * routes each command to its slot's node, and the nodes answer in parallel). Only the
 * common answers are judged here, a plain value (a hit) and no entry (a miss); anything
 * else (a marker, an entry of another shape, a key of another type) takes
 * {@link ProductCache#lookup}, the single lookup with its script, as it would alone.
 */
@Component
public class ProductBatchLookup {

	private static final Logger logger = LoggerFactory.getLogger(ProductBatchLookup.class);

	private static final byte[][] FIELDS = { bytes("state"), bytes("version"), bytes("json") };

	private static final byte[] VALUE = bytes("value");

	private final RedisTemplate<String, byte[]> redis;

	private final RedisGuard guard;

	private final ProductKeys keys;

	private final ProductInvalidations invalidations;

	private final NearCache near;

	private final CacheAuditor auditor;

	private final ProductCache single;

	/**
	 * How long the answers are awaited at most, all together: Lettuce times each command
	 * out after the same, so this only bounds a wait that Lettuce failed to end.
	 */
	private final Duration wait;

	private final Counter hits;

	private final Counter nearHits;

	private final Counter misses;

	private final Counter bypasses;

	ProductBatchLookup(RedisTemplate<String, byte[]> productCacheTemplate, RedisGuard guard, ProductKeys keys,
			ProductInvalidations invalidations, NearCache near, CacheAuditor auditor, ProductCache single,
			DataRedisProperties redisProperties, MeterRegistry meters) {
		this.redis = productCacheTemplate;
		this.guard = guard;
		this.keys = keys;
		this.invalidations = invalidations;
		this.near = near;
		this.auditor = auditor;
		this.single = single;
		Duration timeout = (redisProperties.getTimeout() != null) ? redisProperties.getTimeout()
				: Duration.ofSeconds(1);
		this.wait = timeout.multipliedBy(2);
		// The same meters as the single lookup's: a product read is counted alike either
		// way.
		this.hits = Lookup.counter(meters, "hit");
		this.nearHits = Lookup.counter(meters, "near_hit");
		this.misses = Lookup.counter(meters, "miss");
		this.bypasses = Lookup.counter(meters, "bypass");
	}

	/**
	 * Looks each product up, logging and counting each outcome as a single lookup would.
	 * The answer has an entry per id, in the order given.
	 */
	public Map<Long, Lookup> lookupAll(List<Long> ids) {
		Map<Long, Lookup> found = new HashMap<>();
		List<Long> remaining = new ArrayList<>();
		for (long id : ids) {
			Lookup near = this.near.find(id);
			if (near != null) {
				log(logger.atDebug(), "near_hit", id).log("CACHE HIT: {} (near)", id);
				this.nearHits.increment();
				this.auditor.hit(id, near.version());
				found.put(id, near);
			}
			else if (this.invalidations.isPending(id)) {
				counted(id, Lookup.BYPASSED);
				found.put(id, Lookup.BYPASSED);
			}
			else {
				remaining.add(id);
			}
		}
		List<Long> single = new ArrayList<>();
		if (this.keys.entryTtlBoundMillis() > 0) {
			// The change feed is behind: every read goes through the script, which cuts
			// a longer TTL down to the bound.
			single.addAll(remaining);
		}
		else if (!remaining.isEmpty()) {
			readTogether(remaining, found, single);
		}
		for (long id : single) {
			found.put(id, this.single.lookup(id));
		}
		Map<Long, Lookup> ordered = new LinkedHashMap<>();
		ids.forEach((id) -> ordered.put(id, found.get(id)));
		return ordered;
	}

	private void readTogether(List<Long> ids, Map<Long, Lookup> found, List<Long> single) {
		List<NearCache.Reservation> reservations = new ArrayList<>(ids.size());
		ids.forEach((id) -> reservations.add(this.near.reserve(id)));
		Optional<List<List<byte[]>>> answers = this.guard.call(() -> this.redis.execute(
				(RedisCallback<List<List<byte[]>>>) (connection) -> hashFields(connection.getNativeConnection(), ids)));
		for (int i = 0; i < ids.size(); i++) {
			long id = ids.get(i);
			Lookup lookup = answers.isPresent() ? plain(answers.get().get(i)) : Lookup.BYPASSED;
			if (lookup == null) {
				// Released, so that the single lookup may reserve the place itself.
				this.near.keep(reservations.get(i), Lookup.MISSED);
				single.add(id);
				continue;
			}
			this.near.keep(reservations.get(i), lookup);
			counted(id, lookup);
			if (lookup.outcome() == Lookup.Outcome.HIT) {
				this.auditor.hit(id, lookup.version());
				this.single.checkTtlNowAndThen(id);
			}
			found.put(id, lookup);
		}
	}

	/**
	 * Sends every HMGET before awaiting any answer. A key of another type answers
	 * WRONGTYPE for itself only: it reads as "not plain", for the single lookup. Any
	 * other failure fails the batch, for the guard.
	 */
	@SuppressWarnings("unchecked")
	private List<List<byte[]>> hashFields(Object nativeConnection, List<Long> ids) {
		RedisClusterAsyncCommands<byte[], byte[]> commands = (RedisClusterAsyncCommands<byte[], byte[]>) nativeConnection;
		List<RedisFuture<List<KeyValue<byte[], byte[]>>>> futures = new ArrayList<>(ids.size());
		for (long id : ids) {
			futures.add(commands.hmget(bytes(this.keys.key(id)), FIELDS));
		}
		long deadline = System.nanoTime() + this.wait.toNanos();
		List<List<byte[]>> answers = new ArrayList<>(ids.size());
		for (RedisFuture<List<KeyValue<byte[], byte[]>>> future : futures) {
			answers.add(answer(future, deadline));
		}
		return answers;
	}

	private static List<byte[]> answer(RedisFuture<List<KeyValue<byte[], byte[]>>> future, long deadline) {
		List<KeyValue<byte[], byte[]>> values;
		try {
			values = RedisGuard.await(future, deadline, "A batch of HMGETs was not answered in time");
		}
		catch (RuntimeException failed) {
			if (failed.getMessage() != null && failed.getMessage().startsWith("WRONGTYPE")) {
				return null;
			}
			throw failed;
		}
		List<byte[]> fields = new ArrayList<>(values.size());
		values.forEach((value) -> fields.add(value.getValueOrElse(null)));
		return fields;
	}

	/**
	 * A hit for a value of ours, a miss for no entry at all, null for anything else (the
	 * same judgement as {@link ProductCache}'s plain read).
	 */
	private static Lookup plain(List<byte[]> found) {
		if (found == null || found.size() != FIELDS.length) {
			return null;
		}
		byte[] state = found.get(0);
		if (state == null && found.get(1) == null && found.get(2) == null) {
			return Lookup.MISSED;
		}
		long version = digits(found.get(1));
		if (version != Lookup.NO_VERSION && found.get(2) != null && Arrays.equals(state, VALUE)) {
			return new Lookup(Lookup.Outcome.HIT, version, found.get(2));
		}
		return null;
	}

	private void counted(long id, Lookup lookup) {
		switch (lookup.outcome()) {
			case HIT -> {
				log(logger.atInfo(), "hit", id).log("CACHE HIT: {}", id);
				this.hits.increment();
			}
			case MISS -> {
				log(logger.atInfo(), "miss", id).log("CACHE MISS: {}", id);
				this.misses.increment();
			}
			case BYPASS -> {
				log(logger.atDebug(), "bypass", id).log("CACHE BYPASS: {}", id);
				this.bypasses.increment();
			}
			case ABSENT -> throw new IllegalStateException("A plain read never finds a remembered 404");
		}
	}

	private static LoggingEventBuilder log(LoggingEventBuilder event, String outcome, long id) {
		return event.addKeyValue("outcome", outcome).addKeyValue("id", id);
	}

}
