package com.example.catalog.cache;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

import org.springframework.core.NestedExceptionUtils;
import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.RedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.stereotype.Component;

import static com.example.catalog.cache.ProductKeys.bytes;
import static com.example.catalog.cache.ProductKeys.digits;
import static com.example.catalog.cache.ProductKeys.number;

/**
 * The read side of cache-aside for products. Each product is a hash under
 * {@link ProductKeys#key} holding a {@code state} ({@code value}, {@code stale},
 * {@code deleted} or {@code absent}), the product's {@code version} and, for a value, its
 * response {@code json}. A lookup tries this instance's near cache, then Redis; a fill is
 * a Lua script that never replaces a newer version (or a marker left by
 * {@link ProductInvalidations}) with an older one.
 */
@Component
public class ProductCache {

	private static final Logger logger = LoggerFactory.getLogger(ProductCache.class);

	/** About one hit in this many has its key's TTL checked by the lookup script. */
	private static final int TTL_CHECK_ONE_IN = 32;

	private static final byte[][] FIELDS = { bytes("state"), bytes("version"), bytes("json") };

	private static final byte[] VALUE = bytes("value");

	/** What a lookup's HMGET answers for a key that is not a hash. */
	private static final List<byte[]> NOT_A_HASH = List.of();

	private static final RedisScript<List> LOOKUP = ProductKeys.script("lookup", List.class);

	private static final RedisScript<Long> FILL = ProductKeys.script("fill", Long.class);

	private static final RedisScript<Long> FILL_ABSENT = ProductKeys.script("fill-absent", Long.class);

	private final RedisTemplate<String, byte[]> redis;

	private final RedisGuard guard;

	private final ProductKeys keys;

	private final ProductInvalidations invalidations;

	/** In-process copies of hits, when CACHE_NEAR_ENABLED; empty otherwise. */
	private final NearCache near;

	/** Checks a sample of the hits against the database. */
	private final CacheAuditor auditor;

	/** Copies of database reads, served while Redis is unavailable. */
	private final Gutter gutter;

	/** The lookup and fill spans of a trace. */
	private final CacheObservations observations;

	/** Runs the TTL checks of hits off the request threads. */
	private final ExecutorService ttlChecker = Executors.newSingleThreadExecutor((task) -> {
		Thread thread = new Thread(task, "cache-ttl-checks");
		thread.setDaemon(true);
		return thread;
	});

	/** Whether a hit's TTL is being checked in the background (one at a time). */
	private final AtomicBoolean ttlCheckRunning = new AtomicBoolean();

	private final Counter hits;

	private final Counter nearHits;

	private final Counter negativeHits;

	private final Counter misses;

	private final Counter bypasses;

	private final Counter staleSetsRefused;

	ProductCache(RedisTemplate<String, byte[]> productCacheTemplate, RedisGuard guard, ProductKeys keys,
			ProductInvalidations invalidations, NearCache near, CacheAuditor auditor, Gutter gutter,
			CacheObservations observations, MeterRegistry meters) {
		this.redis = productCacheTemplate;
		this.guard = guard;
		this.keys = keys;
		this.invalidations = invalidations;
		this.near = near;
		this.auditor = auditor;
		this.gutter = gutter;
		this.observations = observations;
		this.hits = Lookup.counter(meters, "hit");
		this.nearHits = Lookup.counter(meters, "near_hit");
		this.negativeHits = Lookup.counter(meters, "negative_hit");
		this.misses = Lookup.counter(meters, "miss");
		this.bypasses = Lookup.counter(meters, "bypass");
		this.staleSetsRefused = Counter.builder("catalog.cache.stale_sets_refused")
			.description("Cache fills refused because a newer version had been committed")
			.register(meters);
	}

	/**
	 * Looks a product up in the near cache, then in Redis, logging and counting the
	 * outcome.
	 */
	public Lookup lookup(long id) {
		return this.observations.lookup(id, () -> lookupAndCount(id));
	}

	private Lookup lookupAndCount(long id) {
		Lookup near = this.near.find(id);
		if (near != null) {
			this.observations.nearHit();
			// Not logged at INFO: a near hit costs less than a log line.
			log(logger.atDebug(), "near_hit", id).log("CACHE HIT: {} (near)", id);
			this.nearHits.increment();
			this.auditor.hit(id, near.version());
			return near;
		}
		NearCache.Reservation reservation = this.near.reserve(id);
		Lookup lookup = read(id);
		this.near.keep(reservation, lookup);
		switch (lookup.outcome()) {
			case HIT -> {
				log(logger.atInfo(), "hit", id).log("CACHE HIT: {}", id);
				this.hits.increment();
				this.auditor.hit(id, lookup.version());
			}
			case ABSENT -> {
				log(logger.atInfo(), "negative_hit", id).log("CACHE HIT: {} (no such product)", id);
				this.negativeHits.increment();
			}
			case MISS -> {
				log(logger.atInfo(), "miss", id).log("CACHE MISS: {}", id);
				this.misses.increment();
			}
			case BYPASS -> {
				// Not audited: the gutter is not Redis, and its staleness is its TTL.
				Lookup kept = this.gutter.find(id);
				if (kept != null) {
					log(logger.atDebug(), "gutter_hit", id).log("CACHE GUTTER HIT: {}", id);
					return kept;
				}
				log(logger.atDebug(), "bypass", id).log("CACHE BYPASS: {}", id);
				this.bypasses.increment();
			}
		}
		return lookup;
	}

	/**
	 * Looks again, quietly, for a caller that already missed: another caller may have
	 * filled the entry meanwhile.
	 */
	public Lookup lookupAgain(long id) {
		return read(id);
	}

	// Package-private: a test holds a lookup between its Redis read and its near fill.
	Lookup read(long id) {
		if (this.invalidations.isPending(id)) {
			return Lookup.BYPASSED;
		}
		if (this.keys.entryTtlBoundMillis() > 0) {
			// The change feed is behind: every hit goes through the script, which cuts a
			// longer TTL down to the bound.
			return readChecked(id);
		}
		byte[] key = bytes(this.keys.key(id));
		// The common case, a value of ours, is one plain HMGET. Anything else (a marker,
		// an entry of the wrong shape, a key of another type) is rare and goes through
		// the lookup script, which also checks the TTL and drops what we could not have
		// written.
		Optional<List<byte[]>> fields = this.guard
			.call(() -> this.redis.execute((RedisCallback<List<byte[]>>) (connection) -> hashFields(connection, key)));
		if (fields.isEmpty()) {
			return Lookup.BYPASSED;
		}
		List<byte[]> found = fields.get();
		if (found == NOT_A_HASH) {
			return readChecked(id);
		}
		byte[] state = found.get(0);
		if (state == null && found.get(1) == null && found.get(2) == null) {
			return Lookup.MISSED;
		}
		long version = digits(found.get(1));
		if (version != Lookup.NO_VERSION && found.get(2) != null && Arrays.equals(state, VALUE)) {
			checkTtlNowAndThen(id);
			return new Lookup(Lookup.Outcome.HIT, version, found.get(2));
		}
		return readChecked(id);
	}

	private static List<byte[]> hashFields(RedisConnection connection, byte[] key) {
		try {
			return connection.hashCommands().hMGet(key, FIELDS);
		}
		catch (DataAccessException failure) {
			// WRONGTYPE: a key we did not write, for the script to drop. Anything else
			// is a failure of Redis, for the guard.
			String message = NestedExceptionUtils.getMostSpecificCause(failure).getMessage();
			if (message != null && message.startsWith("WRONGTYPE")) {
				return NOT_A_HASH;
			}
			throw failure;
		}
	}

	/**
	 * The lookup script: reads the entry and its TTL, and drops (and reads as a miss)
	 * what this service could not have written.
	 */
	private Lookup readChecked(long id) {
		long bound = this.keys.entryTtlBoundMillis();
		Optional<List> entry = this.guard.call(() -> (bound > 0)
				? this.redis.execute(LOOKUP, List.of(this.keys.key(id)), number(this.keys.longestTtlMillis()),
						number(bound))
				: this.redis.execute(LOOKUP, List.of(this.keys.key(id)), number(this.keys.longestTtlMillis())));
		if (entry.isEmpty()) {
			return Lookup.BYPASSED;
		}
		return Lookup.fromScript(entry.get());
	}

	/**
	 * A hit's HMGET does not see the TTL: about one hit in {@value #TTL_CHECK_ONE_IN},
	 * and one at a time, runs the lookup script on its key in the background, which drops
	 * a value planted without a TTL or with a longer one than ours. Such a value is
	 * served a few dozen times at most, never pinned.
	 */
	void checkTtlNowAndThen(long id) {
		if (ThreadLocalRandom.current().nextInt(TTL_CHECK_ONE_IN) == 0
				&& this.ttlCheckRunning.compareAndSet(false, true)) {
			try {
				this.ttlChecker.execute(() -> {
					try {
						readChecked(id);
					}
					finally {
						this.ttlCheckRunning.set(false);
					}
				});
			}
			catch (RejectedExecutionException shuttingDown) {
				this.ttlCheckRunning.set(false);
			}
		}
	}

	@PreDestroy
	void stopTtlChecks() {
		this.ttlChecker.shutdownNow();
	}

	/**
	 * Stores a product read from the database, unless a newer version was seen meanwhile.
	 */
	public void put(long id, long version, byte[] json) {
		if (this.invalidations.isPending(id)) {
			return;
		}
		this.observations.fill(id, () -> fill(id, version, json));
	}

	private void fill(long id, long version, byte[] json) {
		this.guard
			.call(() -> this.redis.execute(FILL, List.of(this.keys.key(id)), number(version), json,
					number(this.keys.entryTtlMillis()), number(this.keys.longestTtlMillis())))
			.filter((stored) -> stored < 0)
			.ifPresent((refused) -> {
				logger.debug("Refused to cache version {} of product {}: a newer one was committed", version, id);
				this.staleSetsRefused.increment();
			});
	}

	/** Remembers for a short while that no product has this id. */
	public void putAbsent(long id) {
		if (this.invalidations.isPending(id)) {
			return;
		}
		this.observations.fill(id, () -> this.guard.call(() -> this.redis.execute(FILL_ABSENT,
				List.of(this.keys.key(id)), number(this.keys.absentTtlMillis()))));
	}

	// The outcome and the id as fields of their own in structured (JSON) logs; the text
	// format shows the message only.
	private static LoggingEventBuilder log(LoggingEventBuilder event, String outcome, long id) {
		return event.addKeyValue("outcome", outcome).addKeyValue("id", id);
	}

}
