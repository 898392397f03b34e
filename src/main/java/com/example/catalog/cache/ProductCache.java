package com.example.catalog.cache;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.core.io.ClassPathResource;
import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.RedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The Redis side of cache-aside for products. Each product is a hash under
 * {@code <prefix><id>} holding a {@code state} ({@code value}, {@code stale},
 * {@code deleted} or {@code absent}), the product's {@code version} and, for a value, its
 * response {@code json}. All writes are Lua scripts that never replace a newer version
 * with an older one. An invalidation that Redis could not take, or that no replica of a
 * master with replicas acknowledged (see {@link ReplicatedMarkers}), is kept, its product
 * is read around the cache, and a background thread applies it again until it holds.
 */
@Component
public class ProductCache {

	private static final Logger logger = LoggerFactory.getLogger(ProductCache.class);

	/** Version of a deletion marker: newer than any version a product can have. */
	private static final long DELETED = Long.MAX_VALUE;

	/** The version of a lookup that found no entry, or no readable version. */
	public static final long NO_VERSION = -1;

	/**
	 * Tag of the cached JSON's shape, part of every key: change it whenever
	 * {@code ProductResponse}'s JSON changes, so that a new release never serves entries
	 * written by an older one (they expire unread).
	 */
	static final String FORMAT = "json1:";

	/**
	 * Markers must outlive the slowest fill they are there to refuse, and a deletion
	 * marker keeps a deleted product a cheap 404, however short the entries' TTL.
	 */
	static final Duration MIN_MARKER_TTL = Duration.ofMinutes(5);

	/** How often a background attempt to apply kept invalidations is repeated. */
	private static final long RETRY_MILLIS = 250;

	/** About one hit in this many has its key checked by the lookup script. */
	private static final int AUDIT_ONE_IN = 32;

	private static final byte[][] FIELDS = { bytes("state"), bytes("version"), bytes("json") };

	private static final byte[] VALUE = bytes("value");

	/** What a lookup's HMGET answers for a key that is not a hash. */
	private static final List<byte[]> NOT_A_HASH = List.of();

	private static final Lookup MISSED = new Lookup(Outcome.MISS, NO_VERSION, null);

	private static final Lookup BYPASSED = new Lookup(Outcome.BYPASS, NO_VERSION, null);

	private static final RedisScript<List> LOOKUP = script("lookup", List.class);

	private static final RedisScript<Long> FILL = script("fill", Long.class);

	private static final RedisScript<Long> FILL_ABSENT = script("fill-absent", Long.class);

	private static final RedisScript<Long> INVALIDATE = script("invalidate", Long.class);

	private static final RedisScript<Long> RELEASE = script("release", Long.class);

	private final RedisTemplate<String, byte[]> redis;

	private final RedisGuard guard;

	private final ReplicatedMarkers markers;

	private final CacheProperties properties;

	/** In-process copies of hits, when CACHE_NEAR_ENABLED; empty otherwise. */
	private final NearCache near;

	/** Invalidations Redis did not take: product id to the version that must win. */
	private final Map<Long, Long> pendingInvalidations = new ConcurrentHashMap<>();

	/** Applies kept invalidations off the request threads, one at a time. */
	private final ScheduledExecutorService applier = Executors.newSingleThreadScheduledExecutor((task) -> {
		Thread thread = new Thread(task, "cache-invalidations");
		thread.setDaemon(true);
		return thread;
	});

	private final AtomicBoolean applyScheduled = new AtomicBoolean();

	/** Whether a hit's TTL is being checked in the background (one at a time). */
	private final AtomicBoolean auditRunning = new AtomicBoolean();

	private final long markerTtlMillis;

	private final long longestTtlMillis;

	private final Counter hits;

	private final Counter nearHits;

	private final Counter negativeHits;

	private final Counter misses;

	private final Counter bypasses;

	private final Counter staleSetsRefused;

	private final Counter failedInvalidations;

	ProductCache(RedisTemplate<String, byte[]> productCacheTemplate, RedisGuard guard, ReplicatedMarkers markers,
			CacheProperties properties, NearCache near, MeterRegistry meters) {
		this.redis = productCacheTemplate;
		this.guard = guard;
		this.markers = markers;
		this.properties = properties;
		this.near = near;
		this.markerTtlMillis = Math.max(properties.ttl().toMillis(), MIN_MARKER_TTL.toMillis());
		// Anything longer was not written by this service (or by one with other
		// settings).
		double jittered = 1 + properties.ttlJitter();
		this.longestTtlMillis = Math.max(this.markerTtlMillis,
				Math.round(Math.max(properties.ttl().toMillis(), properties.negativeTtl().toMillis()) * jittered))
				+ 1000;
		this.hits = lookups(meters, "hit");
		this.nearHits = lookups(meters, "near_hit");
		this.negativeHits = lookups(meters, "negative_hit");
		this.misses = lookups(meters, "miss");
		this.bypasses = lookups(meters, "bypass");
		this.staleSetsRefused = Counter.builder("catalog.cache.stale_sets_refused")
			.description("Cache fills refused because a newer version had been committed")
			.register(meters);
		this.failedInvalidations = Counter.builder("catalog.cache.invalidations_failed")
			.description("Invalidations Redis could not take at once, kept to apply later")
			.register(meters);
		meters.gauge("catalog.cache.invalidations_pending", this.pendingInvalidations, Map::size);
		guard.onRecovery(this::applyPendingSoon);
	}

	/**
	 * Tries Redis once at start-up, so that a missing Redis is reported before the first
	 * request.
	 */
	@EventListener(ApplicationReadyEvent.class)
	void checkRedisOnStart() {
		isRedisAvailable();
	}

	/**
	 * Pings Redis (unless the circuit breaker is skipping it) and tells whether it is
	 * usable, for health checks: without one, nothing would notice Redis's return while
	 * no request comes.
	 */
	public boolean isRedisAvailable() {
		this.guard.call(() -> this.redis.execute((RedisCallback<String>) (connection) -> connection.ping()));
		return this.guard.isAvailable();
	}

	/**
	 * Looks a product up in the near cache, then in Redis, logging and counting the
	 * outcome.
	 */
	public Lookup lookup(long id) {
		Lookup near = this.near.find(id);
		if (near != null) {
			// Not logged at INFO: a near hit costs less than a log line.
			log(logger.atDebug(), "near_hit", id).log("CACHE HIT: {} (near)", id);
			this.nearHits.increment();
			return near;
		}
		NearCache.Reservation reservation = this.near.reserve(id);
		Lookup lookup = read(id);
		this.near.keep(reservation, lookup);
		switch (lookup.outcome()) {
			case HIT -> {
				log(logger.atInfo(), "hit", id).log("CACHE HIT: {}", id);
				this.hits.increment();
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
		if (!this.pendingInvalidations.isEmpty() && this.pendingInvalidations.containsKey(id)) {
			// Redis may still hold what that invalidation was meant to remove.
			return BYPASSED;
		}
		byte[] key = bytes(key(id));
		// The common case, a value of ours, is one plain HMGET. Anything else (a marker,
		// an entry of the wrong shape, a key of another type) is rare and goes through
		// the
		// lookup script, which also checks the TTL and drops what we could not have
		// written.
		Optional<List<byte[]>> fields = this.guard
			.call(() -> this.redis.execute((RedisCallback<List<byte[]>>) (connection) -> hashFields(connection, key)));
		if (fields.isEmpty()) {
			return BYPASSED;
		}
		List<byte[]> found = fields.get();
		if (found == NOT_A_HASH) {
			return readChecked(id);
		}
		byte[] state = found.get(0);
		if (state == null && found.get(1) == null && found.get(2) == null) {
			return MISSED;
		}
		long version = digits(found.get(1));
		if (version != NO_VERSION && found.get(2) != null && Arrays.equals(state, VALUE)) {
			auditNowAndThen(id);
			return new Lookup(Outcome.HIT, version, found.get(2));
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
		Optional<List> entry = this.guard
			.call(() -> this.redis.execute(LOOKUP, List.of(key(id)), number(this.longestTtlMillis)));
		if (entry.isEmpty()) {
			return BYPASSED;
		}
		List<?> fields = entry.get();
		if (fields.isEmpty()) {
			return MISSED;
		}
		String state = text((byte[]) fields.get(0));
		long version = version((byte[]) fields.get(1));
		if ("value".equals(state) && fields.get(2) != null) {
			return new Lookup(Outcome.HIT, version, (byte[]) fields.get(2));
		}
		if ("absent".equals(state) || "deleted".equals(state)) {
			return new Lookup(Outcome.ABSENT, version, null);
		}
		if ("stale".equals(state)) {
			return new Lookup(Outcome.MISS, version, null);
		}
		// A provisional marker: its version may never be committed.
		return MISSED;
	}

	/**
	 * A hit's HMGET does not see the TTL: about one hit in {@value #AUDIT_ONE_IN}, and
	 * one at a time, runs the lookup script on its key in the background, which drops a
	 * value planted without a TTL or with a longer one than ours. Such a value is served
	 * a few dozen times at most, never pinned.
	 */
	private void auditNowAndThen(long id) {
		if (ThreadLocalRandom.current().nextInt(AUDIT_ONE_IN) == 0 && this.auditRunning.compareAndSet(false, true)) {
			try {
				this.applier.execute(() -> {
					try {
						readChecked(id);
					}
					finally {
						this.auditRunning.set(false);
					}
				});
			}
			catch (RejectedExecutionException shuttingDown) {
				this.auditRunning.set(false);
			}
		}
	}

	/**
	 * Stores a product read from the database, unless a newer version was seen meanwhile.
	 */
	public void put(long id, long version, byte[] json) {
		if (this.pendingInvalidations.containsKey(id)) {
			return;
		}
		this.guard
			.call(() -> this.redis.execute(FILL, List.of(key(id)), number(version), json,
					number(jittered(this.properties.ttl())), number(this.longestTtlMillis)))
			.filter((stored) -> stored < 0)
			.ifPresent((refused) -> {
				logger.debug("Refused to cache version {} of product {}: a newer one was committed", version, id);
				this.staleSetsRefused.increment();
			});
	}

	/** Remembers for a short while that no product has this id. */
	public void putAbsent(long id) {
		if (this.pendingInvalidations.containsKey(id)) {
			return;
		}
		this.guard.call(() -> this.redis.execute(FILL_ABSENT, List.of(key(id)),
				number(jittered(this.properties.negativeTtl()))));
	}

	/**
	 * Marks the product as about to change, from inside the transaction that creates or
	 * updates it, before it commits: should the process die between the commit and
	 * {@link #invalidate}, the entry it replaces is gone already, and fills of older
	 * versions are refused. Removed again if the transaction rolls back.
	 */
	public void prepareInvalidation(long id, long version) {
		prepare(id, version, "pending");
	}

	/**
	 * Marks the product as about to be deleted, from inside the deleting transaction,
	 * before it commits; see {@link #prepareInvalidation}.
	 */
	public void prepareDeletion(long id) {
		prepare(id, DELETED, "deleting");
	}

	private void prepare(long id, long version, String state) {
		// Inside the transaction, with the product's row locked (on SQLite, the whole
		// database): the product's other writers (on SQLite, all writers) wait for this
		// one, so only a Redis that answered its last command is asked, for at most the
		// command timeout. A Redis that stops answering costs that once: the write that
		// finds out marks it unproven, and later writes skip this step (their final
		// marker is then kept and applied later) until a command succeeds again. Not
		// before the lock: the marker must carry the version being committed, which only
		// the locked row tells.
		boolean marked = this.guard
			.callIfAnswering(() -> this.redis.execute(INVALIDATE, List.of(key(id)), number(version), bytes(state),
					number(MIN_MARKER_TTL.toMillis()), number(this.longestTtlMillis)))
			.isPresent();
		// If Redis did not take it, the invalidation after the commit is kept and applied
		// later, as without this step.
		if (marked && TransactionSynchronizationManager.isSynchronizationActive()) {
			TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
				@Override
				public void afterCompletion(int status) {
					if (status == STATUS_ROLLED_BACK) {
						ProductCache.this.guard.call(() -> ProductCache.this.redis.execute(RELEASE, List.of(key(id)),
								bytes(state), number(version)));
					}
				}
			});
		}
	}

	/**
	 * Marks the product changed: call after the transaction that created or updated it
	 * committed.
	 */
	public void invalidate(long id, long committedVersion) {
		mark(id, committedVersion);
	}

	/** Marks the product deleted: call after the deleting transaction committed. */
	public void invalidateDeleted(long id) {
		mark(id, DELETED);
	}

	private void mark(long id, long version) {
		Optional<Boolean> replicated = applyMarker(id, version);
		// After the marker: a near fill that read Redis before it is not kept, and a
		// later one reads the marker.
		this.near.invalidate(id);
		if (replicated.orElse(false)) {
			log(logger.atInfo(), "invalidated", id).log("CACHE INVALIDATED: {}", id);
		}
		else {
			this.pendingInvalidations.merge(id, version, Math::max);
			this.failedInvalidations.increment();
			// Not a warning per write: the outage itself was reported once by RedisGuard.
			log(logger.atInfo(), "invalidation_deferred", id).log(
					"CACHE INVALIDATION DEFERRED: {} ({}; applied again until it is)", id,
					replicated.isPresent() ? "no replica acknowledged it in time" : "Redis unavailable");
			applyPendingSoon();
		}
	}

	/**
	 * Writes the final marker: empty if Redis did not take it, false if it took it but no
	 * replica acknowledged it in time (a fail-over could still lose it), true if it is
	 * safe.
	 */
	private Optional<Boolean> applyMarker(long id, long version) {
		byte[] state = bytes((version == DELETED) ? "deleted" : "stale");
		return this.guard.call(() -> this.markers.write(INVALIDATE, key(id), number(version), state,
				number(this.markerTtlMillis), number(this.longestTtlMillis)))
			.map(ReplicatedMarkers.Written::replicated);
	}

	/**
	 * Schedules an attempt to apply the kept invalidations, unless one is scheduled:
	 * after a deferral, and when Redis answers again.
	 */
	private void applyPendingSoon() {
		if (!this.pendingInvalidations.isEmpty() && this.applyScheduled.compareAndSet(false, true)) {
			try {
				this.applier.execute(this::applyPendingInBackground);
			}
			catch (RejectedExecutionException shuttingDown) {
				this.applyScheduled.set(false);
			}
		}
	}

	private void applyPendingInBackground() {
		this.applyScheduled.set(false);
		if (!applyPendingInvalidations() && this.applyScheduled.compareAndSet(false, true)) {
			try {
				this.applier.schedule(this::applyPendingInBackground, RETRY_MILLIS, TimeUnit.MILLISECONDS);
			}
			catch (RejectedExecutionException shuttingDown) {
				this.applyScheduled.set(false);
			}
		}
	}

	private boolean applyPendingInvalidations() {
		for (Map.Entry<Long, Long> pending : this.pendingInvalidations.entrySet()) {
			if (!applyMarker(pending.getKey(), pending.getValue()).orElse(false)) {
				return false;
			}
			this.pendingInvalidations.remove(pending.getKey(), pending.getValue());
			log(logger.atInfo(), "invalidated", pending.getKey()).log("CACHE INVALIDATED: {} (deferred)",
					pending.getKey());
		}
		return true;
	}

	// The outcome and the id as fields of their own in structured (JSON) logs; the text
	// format shows the message only.
	private static LoggingEventBuilder log(LoggingEventBuilder event, String outcome, long id) {
		return event.addKeyValue("outcome", outcome).addKeyValue("id", id);
	}

	/**
	 * Tries once more to apply what is kept, then names what is lost with this process:
	 * other instances may serve those products' old versions until their entries expire.
	 */
	@PreDestroy
	void applyPendingBeforeShutdown() {
		this.applier.shutdownNow();
		if (this.pendingInvalidations.isEmpty() || applyPendingInvalidations()) {
			return;
		}
		List<Long> lost = new ArrayList<>(this.pendingInvalidations.keySet());
		logger.warn("{} cache invalidations could not be applied before shutdown (Redis unavailable, or no replica "
				+ "acknowledged them); other instances may " + "serve these products' old versions for up to {}: {}{}",
				lost.size(), this.properties.ttl(), lost.subList(0, Math.min(lost.size(), 100)),
				(lost.size() > 100) ? " and " + (lost.size() - 100) + " more" : "");
	}

	private long jittered(Duration ttl) {
		double jitter = this.properties.ttlJitter();
		double factor = 1 + jitter * (2 * ThreadLocalRandom.current().nextDouble() - 1);
		return Math.max(1, Math.round(ttl.toMillis() * factor));
	}

	/** The Redis key of a product. */
	public String key(long id) {
		return this.properties.keyPrefix() + FORMAT + id;
	}

	private static byte[] number(long value) {
		return bytes(Long.toString(value));
	}

	private static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

	private static long version(byte[] bytes) {
		try {
			return (bytes != null) ? Long.parseLong(text(bytes)) : NO_VERSION;
		}
		catch (NumberFormatException malformed) {
			return NO_VERSION;
		}
	}

	/**
	 * A value's version as fill.lua writes it, up to 18 plain digits, parsed without a
	 * String per hit; {@link #NO_VERSION} for anything else, which the lookup script then
	 * judges.
	 */
	private static long digits(byte[] bytes) {
		if (bytes == null || bytes.length == 0 || bytes.length > 18) {
			return NO_VERSION;
		}
		long version = 0;
		for (byte digit : bytes) {
			if (digit < '0' || digit > '9') {
				return NO_VERSION;
			}
			version = version * 10 + (digit - '0');
		}
		return version;
	}

	private static String text(byte[] bytes) {
		return (bytes != null) ? new String(bytes, StandardCharsets.UTF_8) : null;
	}

	private static Counter lookups(MeterRegistry meters, String outcome) {
		return Counter.builder("catalog.cache.lookups")
			.description("Product cache lookups by outcome")
			.tag("outcome", outcome)
			.register(meters);
	}

	// Built from the script's text once: a script made from a resource re-checks the
	// resource inside the jar on every call to compute its SHA (a fifth of a hit's CPU).
	private static <T> RedisScript<T> script(String name, Class<T> resultType) {
		try {
			return RedisScript.of(
					new ClassPathResource("cache/" + name + ".lua").getContentAsString(StandardCharsets.UTF_8),
					resultType);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot read the cache script " + name, ex);
		}
	}

	/** What Redis said about a product. */
	public enum Outcome {

		/** The product's JSON was cached. */
		HIT,
		/** Redis remembers that no product has this id. */
		ABSENT,
		/** Nothing usable was cached: read the database and {@link #put}. */
		MISS,
		/** Redis could not be used: read the database and do not cache. */
		BYPASS

	}

	/**
	 * The answer of a lookup: the outcome, the version Redis holds and the cached JSON on
	 * a hit.
	 *
	 * @param outcome what Redis said
	 * @param version the version of the entry or marker found (a deletion marker's is
	 * {@code Long.MAX_VALUE}), or {@link #NO_VERSION}
	 * @param json the product's JSON, on a hit only
	 */
	public record Lookup(Outcome outcome, long version, byte[] json) {

	}

}
