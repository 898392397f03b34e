package com.example.catalog.cache;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

import org.springframework.context.SmartLifecycle;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.RedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import static com.example.catalog.cache.ProductKeys.DELETED;
import static com.example.catalog.cache.ProductKeys.bytes;
import static com.example.catalog.cache.ProductKeys.number;

/**
 * The write side of the product cache: the version markers a write leaves in Redis. A
 * provisional marker from inside the writing transaction, the final one after its commit
 * (after an update, the committed value), then this instance's near-cache copy is
 * dropped. An invalidation that Redis could not take, or that no replica of a master with
 * replicas acknowledged (see {@link ReplicatedMarkers}), is kept, its product is read
 * around the cache ({@link #isPending}), and a background thread applies it again until
 * it holds.
 */
@Component
public class ProductInvalidations implements SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(ProductInvalidations.class);

	/** How often a background attempt to apply kept invalidations is repeated. */
	private static final long RETRY_MILLIS = 250;

	private static final RedisScript<Long> INVALIDATE = ProductKeys.script("invalidate", Long.class);

	private static final RedisScript<Long> RELEASE = ProductKeys.script("release", Long.class);

	private static final RedisScript<Long> RECONCILE = ProductKeys.script("reconcile", Long.class);

	/** {@code reconcile.lua}'s answer when it left a deletion marker. */
	private static final long DELETION_KEPT = 2;

	private final RedisTemplate<String, byte[]> redis;

	private final RedisGuard guard;

	private final ReplicatedMarkers markers;

	private final ProductKeys keys;

	private final NearCache near;

	private final Gutter gutter;

	/**
	 * The invalidation spans of a trace, and the links of deferred ones to their write.
	 */
	private final CacheObservations observations;

	/** Invalidations Redis did not take: product id to the version that must win. */
	private final Map<Long, Long> pending = new ConcurrentHashMap<>();

	/** Applies kept invalidations off the request threads, one at a time. */
	private final ScheduledExecutorService applier = Executors.newSingleThreadScheduledExecutor((task) -> {
		Thread thread = new Thread(task, "cache-invalidations");
		thread.setDaemon(true);
		return thread;
	});

	private final AtomicBoolean applyScheduled = new AtomicBoolean();

	/** Whether the applier may call Redis: between the lifecycle's start and stop. */
	private volatile boolean running;

	private final Counter failedInvalidations;

	ProductInvalidations(RedisTemplate<String, byte[]> productCacheTemplate, RedisGuard guard,
			ReplicatedMarkers markers, ProductKeys keys, NearCache near, Gutter gutter, CacheObservations observations,
			MeterRegistry meters) {
		this.redis = productCacheTemplate;
		this.guard = guard;
		this.markers = markers;
		this.keys = keys;
		this.near = near;
		this.gutter = gutter;
		this.observations = observations;
		this.failedInvalidations = Counter.builder("catalog.cache.invalidations_failed")
			.description("Invalidations Redis could not take at once, kept to apply later")
			.register(meters);
		meters.gauge("catalog.cache.invalidations_pending", this.pending, Map::size);
		guard.onRecovery(this::applyPendingSoon);
	}

	/**
	 * Whether an invalidation of the product is kept, not yet applied: Redis may still
	 * hold what it was meant to remove, so the product is read and not filled around it.
	 */
	boolean isPending(long id) {
		return !this.pending.isEmpty() && this.pending.containsKey(id);
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
			.callIfAnswering(() -> this.redis.execute(INVALIDATE, List.of(this.keys.key(id)), number(version),
					bytes(state), number(ProductKeys.MIN_MARKER_TTL.toMillis()), number(this.keys.longestTtlMillis())))
			.isPresent();
		// If Redis did not take it, the invalidation after the commit is kept and applied
		// later, as without this step.
		if (marked) {
			releaseOnRollback(Map.of(id, version), state);
		}
	}

	/**
	 * The provisional markers of several products updated in one transaction, sent
	 * together before any answer is awaited: one round trip instead of one per product
	 * while the transaction holds the database's write lock. See
	 * {@link #prepareInvalidation}.
	 * @param versions product id to the version being committed
	 */
	public void prepareInvalidations(Map<Long, Long> versions) {
		if (versions.size() <= 1) {
			versions.forEach(this::prepareInvalidation);
			return;
		}
		boolean marked = this.guard
			.callIfAnswering(() -> this.redis.execute(
					(RedisCallback<Boolean>) (connection) -> markTogether(connection.getNativeConnection(), versions)))
			.isPresent();
		if (marked) {
			releaseOnRollback(versions, "pending");
		}
	}

	// The versions they announce were never committed if the transaction rolls back.
	private void releaseOnRollback(Map<Long, Long> versions, String state) {
		if (TransactionSynchronizationManager.isSynchronizationActive()) {
			TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
				@Override
				public void afterCompletion(int status) {
					if (status == STATUS_ROLLED_BACK) {
						versions.forEach((id, version) -> release(id, version, state));
					}
				}
			});
		}
	}

	/**
	 * Sends every marker before awaiting any answer. A Redis that does not know the
	 * script (restarted since) answers NOSCRIPT: the markers are then written one by one,
	 * which loads it. Any other failure fails them all, for the guard, as one failed
	 * marker does.
	 */
	@SuppressWarnings("unchecked")
	private Boolean markTogether(Object nativeConnection, Map<Long, Long> versions) {
		RedisClusterAsyncCommands<byte[], byte[]> commands = (RedisClusterAsyncCommands<byte[], byte[]>) nativeConnection;
		byte[] state = bytes("pending");
		byte[] shortestTtl = number(ProductKeys.MIN_MARKER_TTL.toMillis());
		byte[] longestTtl = number(this.keys.longestTtlMillis());
		List<RedisFuture<Long>> answers = new ArrayList<>(versions.size());
		versions.forEach((id, version) -> answers.add(commands.evalsha(INVALIDATE.getSha1(), ScriptOutputType.INTEGER,
				new byte[][] { bytes(this.keys.key(id)) }, number(version), state, shortestTtl, longestTtl)));
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
		boolean unknownScript = false;
		for (RedisFuture<Long> answer : answers) {
			try {
				RedisGuard.await(answer, deadline, "Provisional markers were not answered in time");
			}
			catch (RedisNoScriptException notLoaded) {
				unknownScript = true;
			}
		}
		if (unknownScript) {
			versions.forEach((id, version) -> this.redis.execute(INVALIDATE, List.of(this.keys.key(id)),
					number(version), state, shortestTtl, longestTtl));
		}
		return Boolean.TRUE;
	}

	private void release(long id, long version, String state) {
		this.guard.call(() -> this.redis.execute(RELEASE, List.of(this.keys.key(id)), bytes(state), number(version)));
	}

	/**
	 * Marks the product changed: call after the transaction that created it, or that the
	 * auditor found ahead of the cache, committed.
	 */
	public void invalidate(long id, long committedVersion) {
		this.observations.invalidation(id, () -> mark(id, committedVersion, null));
	}

	/**
	 * Stores the committed version of an updated product in place of its provisional
	 * marker: call after the updating transaction committed. It refuses older fills as a
	 * marker does, and the reads after the update are hits instead of database reads.
	 * Should Redis not take it, the marker is kept and applied later, as by
	 * {@link #invalidate}. With entries that live shorter than a marker (a short
	 * {@code CACHE_TTL_SECONDS}, a change feed that is behind) the marker is written
	 * instead: an older fill must stay refused for as long.
	 * @param json the product's response body, as a read from the database caches it
	 */
	public void storeCommitted(long id, long committedVersion, byte[] json) {
		long ttl = this.keys.entryTtlMillis();
		if (ttl < ProductKeys.MIN_MARKER_TTL.toMillis()) {
			invalidate(id, committedVersion);
			return;
		}
		this.observations.invalidation(id, () -> mark(id, committedVersion, new CommittedValue(json, ttl)));
	}

	/** Marks the product deleted: call after the deleting transaction committed. */
	public void invalidateDeleted(long id) {
		this.observations.invalidation(id, () -> mark(id, DELETED, null));
	}

	/**
	 * The change feed's invalidations: the database holds these versions of these
	 * products now, whoever wrote them. Unlike {@link #invalidate} it keeps a value of
	 * that version (the feed also sees the service's own writes, already in Redis and
	 * maybe read since). It leaves a deletion marker alone: the feed may have read the
	 * row before the service deleted it, and only a second read tells (see
	 * {@link #reconcileRestored}). Every marker is sent before any answer is awaited: a
	 * batch of the feed costs one round trip, not one per product.
	 * @param versions product id to the version the database holds
	 * @return what each product's marker left in Redis
	 */
	public Map<Long, Reconciled> reconcileAll(Map<Long, Long> versions) {
		if (versions.isEmpty()) {
			return Map.of();
		}
		Map<String, byte[][]> arguments = new LinkedHashMap<>();
		versions.forEach((id, version) -> arguments.put(this.keys.key(id), reconcileArguments(version, false)));
		Optional<Map<String, ReplicatedMarkers.Written>> written = this.guard
			.call(() -> this.markers.writeAll(RECONCILE, arguments));
		Map<Long, Reconciled> reconciled = new LinkedHashMap<>();
		versions.forEach((id, version) -> reconciled.put(id,
				outcome(id, version, written.map((all) -> all.get(this.keys.key(id))))));
		return reconciled;
	}

	private Reconciled outcome(long id, long version, Optional<ReplicatedMarkers.Written> written) {
		if (written.isPresent() && written.get().answer() == DELETION_KEPT) {
			this.near.invalidate(id);
			this.gutter.invalidate(id);
			return Reconciled.DELETION_KEPT;
		}
		return reconciled(id, version, written) ? Reconciled.HELD : Reconciled.KEPT_FOR_LATER;
	}

	/**
	 * The change feed's invalidation of a row it read again after {@link #reconcileAll}
	 * found a deletion marker, and found there: it was inserted again after the deletion
	 * (a restore), so its version replaces the marker.
	 * @return whether Redis holds it safely; if not, it is kept and applied later
	 */
	public boolean reconcileRestored(long id, long version) {
		return reconciled(id, version, this.guard.call(() -> writeReconciled(id, version, true)));
	}

	/**
	 * The change feed's deletion: the database no longer holds the product.
	 * @return whether Redis holds it safely; if not, it is kept and applied later
	 */
	public boolean reconcileDeleted(long id) {
		return reconciled(id, DELETED, this.guard.call(() -> writeMarker(id, DELETED, null)));
	}

	private ReplicatedMarkers.Written writeReconciled(long id, long version, boolean replaceDeletion) {
		return this.markers.write(RECONCILE, this.keys.key(id), reconcileArguments(version, replaceDeletion));
	}

	private byte[][] reconcileArguments(long version, boolean replaceDeletion) {
		return new byte[][] { number(version), number(this.keys.markerTtlMillis()),
				number(this.keys.longestTtlMillis()), bytes(replaceDeletion ? "1" : "0") };
	}

	private boolean reconciled(long id, long version, Optional<ReplicatedMarkers.Written> written) {
		if (written.isPresent() && written.get().answer() == 0 && written.get().replicated()) {
			// Redis held this already (the service's own write, usually): this instance's
			// copy is as fresh, and there is nothing to say.
			return true;
		}
		this.near.invalidate(id);
		this.gutter.invalidate(id);
		return held(id, version, written.map(ReplicatedMarkers.Written::replicated), "invalidated");
	}

	private void mark(long id, long version, CommittedValue value) {
		Optional<Boolean> replicated = applyMarker(id, version, value);
		// After the marker: a near fill that read Redis before it is not kept, and a
		// later one reads the marker. The gutter likewise, whether or not Redis took the
		// marker: while Redis is away it is what this instance serves.
		this.near.invalidate(id);
		this.gutter.invalidate(id);
		held(id, version, replicated, (value != null) ? "updated" : "invalidated");
	}

	private boolean held(long id, long version, Optional<Boolean> replicated, String outcome) {
		if (replicated.orElse(false)) {
			log(logger.atInfo(), outcome, id).log("CACHE {}: {}", outcome.toUpperCase(Locale.ROOT), id);
			return true;
		}
		this.pending.merge(id, version, Math::max);
		this.observations.deferred(id);
		this.failedInvalidations.increment();
		// Not a warning per write: the outage itself was reported once by RedisGuard.
		log(logger.atInfo(), "invalidation_deferred", id).log(
				"CACHE INVALIDATION DEFERRED: {} ({}; applied again until it is)", id,
				replicated.isPresent() ? "no replica acknowledged it in time" : "Redis unavailable");
		applyPendingSoon();
		return false;
	}

	/**
	 * Writes the final marker: empty if Redis did not take it, false if it took it but no
	 * replica acknowledged it in time (a fail-over could still lose it), true if it is
	 * safe.
	 */
	private Optional<Boolean> applyMarker(long id, long version, CommittedValue value) {
		return this.guard.call(() -> writeMarker(id, version, value)).map(ReplicatedMarkers.Written::replicated);
	}

	/** The final marker; given the committed value, that value instead. */
	private ReplicatedMarkers.Written writeMarker(long id, long version, CommittedValue value) {
		if (value != null) {
			return this.markers.write(INVALIDATE, this.keys.key(id), number(version), bytes("value"),
					number(value.ttlMillis()), number(this.keys.longestTtlMillis()), value.json());
		}
		byte[] state = bytes((version == DELETED) ? "deleted" : "stale");
		return this.markers.write(INVALIDATE, this.keys.key(id), number(version), state,
				number(this.keys.markerTtlMillis()), number(this.keys.longestTtlMillis()));
	}

	/**
	 * Schedules an attempt to apply the kept invalidations, unless one is scheduled:
	 * after a deferral, and when Redis answers again.
	 */
	private void applyPendingSoon() {
		if (this.running && !this.pending.isEmpty() && this.applyScheduled.compareAndSet(false, true)) {
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
		if (this.running && !applyPending() && this.applyScheduled.compareAndSet(false, true)) {
			try {
				this.applier.schedule(this::applyPendingInBackground, RETRY_MILLIS, TimeUnit.MILLISECONDS);
			}
			catch (RejectedExecutionException shuttingDown) {
				this.applyScheduled.set(false);
			}
		}
	}

	private boolean applyPending() {
		for (Map.Entry<Long, Long> kept : this.pending.entrySet()) {
			if (!this.observations.applyDeferred(kept.getKey(), () -> applyKept(kept))) {
				return false;
			}
		}
		return true;
	}

	private boolean applyKept(Map.Entry<Long, Long> kept) {
		if (!applyMarker(kept.getKey(), kept.getValue(), null).orElse(false)) {
			return false;
		}
		this.pending.remove(kept.getKey(), kept.getValue());
		log(logger.atInfo(), "invalidated", kept.getKey()).log("CACHE INVALIDATED: {} (deferred)", kept.getKey());
		return true;
	}

	@Override
	public void start() {
		this.running = true;
		applyPendingSoon();
	}

	/**
	 * Tries once more to apply what is kept, then names what is lost with this process:
	 * other instances may serve those products' old versions until their entries expire.
	 * Runs before the connection factory stops, so that the last try can still succeed.
	 */
	@Override
	public void stop() {
		this.running = false;
		RedisGuard.awaitCurrentTask(this.applier);
		if (this.pending.isEmpty() || applyPending()) {
			return;
		}
		List<Long> lost = new ArrayList<>(this.pending.keySet());
		logger.warn("{} cache invalidations could not be applied before shutdown (Redis unavailable, or no replica "
				+ "acknowledged them); other instances may " + "serve these products' old versions for up to {}: {}{}",
				lost.size(), this.keys.entryTtl(), lost.subList(0, Math.min(lost.size(), 100)),
				(lost.size() > 100) ? " and " + (lost.size() - 100) + " more" : "");
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public int getPhase() {
		return RedisGuard.BACKGROUND_PHASE;
	}

	@PreDestroy
	void close() {
		this.applier.shutdownNow();
	}

	// The outcome and the id as fields of their own in structured (JSON) logs; the text
	// format shows the message only.
	private static LoggingEventBuilder log(LoggingEventBuilder event, String outcome, long id) {
		return event.addKeyValue("outcome", outcome).addKeyValue("id", id);
	}

	/** An updated product's JSON, stored after its commit, and its TTL. */
	private record CommittedValue(byte[] json, long ttlMillis) {

	}

	/** What the change feed's {@link #reconcileAll} left in Redis. */
	public enum Reconciled {

		/** The database's version, or a newer one: safe. */
		HELD,

		/** Nothing yet: Redis did not take it, or no replica acknowledged it in time. */
		KEPT_FOR_LATER,

		/**
		 * A deletion marker, left in place: read the row again, and if it is there call
		 * {@link #reconcileRestored}.
		 */
		DELETION_KEPT

	}

}
