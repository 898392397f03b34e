package com.example.catalog.cache;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.core.NestedExceptionUtils;
import org.springframework.data.redis.connection.RedisClusterConnection;
import org.springframework.data.redis.connection.RedisClusterNode;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.core.Cursor;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.RedisTemplate;
import org.springframework.data.redis.core.ScanOptions;
import org.springframework.stereotype.Component;

import static com.example.catalog.cache.ProductKeys.DELETED;

/**
 * The on-demand full audit, what an operator runs after a Redis fail-over or a database
 * restore: walks every cached product ({@code SCAN} of the product keys, on each master
 * of a Cluster), compares each batch with the database in one query, and repairs what is
 * stale, with the same two steps and definition as the sampled audit of
 * {@link CacheAuditor}: an entry older than the database is looked at again Δ after the
 * database answered, and counted stale (and repaired) only if Redis still holds it. One
 * audit at a time, on a thread of its own; its counts are in
 * {@code catalog.cache.audit{audit="full",result=...}} and in its {@link Progress}.
 */
@Component
class FullCacheAudit {

	private static final Logger logger = LoggerFactory.getLogger(FullCacheAudit.class);

	/** Keys read from Redis per batch, and products per database query. */
	static final int BATCH = 200;

	private final RedisTemplate<String, byte[]> redis;

	private final CacheAuditor auditor;

	private final String keyPattern;

	private final int idStart;

	private final Counter consistent;

	private final Counter stale;

	private final ExecutorService runner = Executors.newSingleThreadExecutor((task) -> {
		Thread thread = new Thread(task, "cache-full-audit");
		thread.setDaemon(true);
		return thread;
	});

	private final AtomicReference<Run> current = new AtomicReference<>();

	FullCacheAudit(RedisTemplate<String, byte[]> productCacheTemplate, CacheAuditor auditor, CacheProperties cache,
			MeterRegistry meters) {
		this.redis = productCacheTemplate;
		this.auditor = auditor;
		String prefix = cache.keyPrefix() + ProductKeys.FORMAT;
		this.keyPattern = prefix.replaceAll("([*?\\[\\]\\\\])", "\\\\$1") + "*";
		this.idStart = prefix.getBytes(StandardCharsets.UTF_8).length;
		this.consistent = CacheAuditor.checks(meters, "full", "consistent");
		this.stale = CacheAuditor.checks(meters, "full", "stale");
	}

	/**
	 * Starts a full audit unless one is running.
	 * @return whether one was started
	 */
	boolean start() {
		Run run = new Run(Instant.now());
		Run previous = this.current.get();
		if ((previous != null && previous.finishedAt == null) || !this.current.compareAndSet(previous, run)) {
			return false;
		}
		try {
			this.runner.execute(() -> walk(run));
		}
		catch (RejectedExecutionException shuttingDown) {
			run.finish("shutting down");
			return false;
		}
		logger.info("CACHE AUDIT: full audit started");
		return true;
	}

	/** The progress of the running audit, or the result of the last one. */
	Progress progress() {
		Run run = this.current.get();
		return (run != null) ? run.progress() : Progress.NEVER_RUN;
	}

	private void walk(Run run) {
		try {
			this.redis.execute((RedisCallback<Void>) (connection) -> {
				ScanOptions options = ScanOptions.scanOptions().match(this.keyPattern).count(BATCH).build();
				if (connection instanceof RedisClusterConnection cluster) {
					for (RedisClusterNode node : cluster.clusterGetNodes()) {
						if (node.isMaster()) {
							walk(run, connection, cluster.scan(node, options));
						}
					}
				}
				else {
					walk(run, connection, connection.keyCommands().scan(options));
				}
				return null;
			});
			run.finish(null);
			logger.info("CACHE AUDIT: full audit finished: {}", run.progress());
		}
		catch (RuntimeException failure) {
			String reason = NestedExceptionUtils.getMostSpecificCause(failure).getMessage();
			run.finish((reason != null) ? reason : failure.getClass().getSimpleName());
			logger.warn("CACHE AUDIT: full audit failed ({}): {}", reason, run.progress());
		}
	}

	private void walk(Run run, RedisConnection connection, Cursor<byte[]> keys) {
		try (keys) {
			List<byte[]> batch = new ArrayList<>(BATCH);
			while (keys.hasNext()) {
				batch.add(keys.next());
				run.keysScanned.incrementAndGet();
				if (batch.size() == BATCH) {
					check(run, connection, batch);
					batch.clear();
				}
			}
			check(run, connection, batch);
		}
	}

	/**
	 * One batch: the values Redis holds, one database query, a second look at those
	 * behind.
	 */
	private void check(Run run, RedisConnection connection, List<byte[]> batch) {
		Map<Long, Long> cached = new HashMap<>();
		Map<Long, byte[]> keyOf = new HashMap<>();
		long readFromRedis = System.nanoTime();
		for (byte[] key : batch) {
			long id = id(key);
			if (id < 0) {
				continue;
			}
			long version = CacheAuditor.servedBy(connection, key);
			if (version != CacheAuditor.NOT_SERVED) {
				cached.put(id, version);
				keyOf.put(id, key);
			}
		}
		if (cached.isEmpty()) {
			return;
		}
		Map<Long, Long> current = this.auditor.currentVersions(new ArrayList<>(cached.keySet()))
			.orElseThrow(() -> new IllegalStateException("the database did not answer"));
		long readFromDatabase = System.nanoTime();
		Map<Long, Long> behind = new HashMap<>();
		cached.forEach((id, version) -> {
			long committed = current.getOrDefault(id, DELETED);
			if (committed > version) {
				behind.put(id, committed);
			}
			else {
				count(run, false);
			}
		});
		if (behind.isEmpty()) {
			return;
		}
		// Those newer versions were committed before the database answered: whatever
		// still holds an older one Δ later is stale.
		sleepUntil(readFromDatabase + this.auditor.delay().toNanos());
		long now = System.nanoTime();
		behind.forEach((id, committed) -> {
			long served = CacheAuditor.servedBy(connection, keyOf.get(id));
			if (served != CacheAuditor.NOT_SERVED && served < committed) {
				count(run, true);
				this.auditor.reportAndRepair(new CacheAuditor.StaleEntry(id, served, committed, Instant.now(),
						Duration.ofNanos(now - readFromRedis), Duration.ofNanos(now - readFromDatabase),
						"full audit: product"));
				run.repaired.incrementAndGet();
			}
			else {
				count(run, false);
			}
		});
	}

	private void count(Run run, boolean isStale) {
		run.checked.incrementAndGet();
		if (isStale) {
			run.stale.incrementAndGet();
			this.stale.increment();
		}
		else {
			run.consistent.incrementAndGet();
			this.consistent.increment();
		}
	}

	/** The product id at the end of a key, or -1 if the key does not end in one. */
	private long id(byte[] key) {
		if (key.length <= this.idStart) {
			return -1;
		}
		try {
			return Long.parseLong(new String(key, this.idStart, key.length - this.idStart, StandardCharsets.UTF_8));
		}
		catch (NumberFormatException notAProduct) {
			return -1;
		}
	}

	private static void sleepUntil(long nanos) {
		long left;
		while ((left = nanos - System.nanoTime()) > 0) {
			try {
				TimeUnit.NANOSECONDS.sleep(left);
			}
			catch (InterruptedException shuttingDown) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException("interrupted");
			}
		}
	}

	@PreDestroy
	void stop() {
		this.runner.shutdownNow();
	}

	/** One full audit, as it goes. */
	private static final class Run {

		private final Instant startedAt;

		private final AtomicLong keysScanned = new AtomicLong();

		private final AtomicLong checked = new AtomicLong();

		private final AtomicLong consistent = new AtomicLong();

		private final AtomicLong stale = new AtomicLong();

		private final AtomicLong repaired = new AtomicLong();

		private volatile Instant finishedAt;

		private volatile String failure;

		Run(Instant startedAt) {
			this.startedAt = startedAt;
		}

		void finish(String failure) {
			this.failure = failure;
			this.finishedAt = Instant.now();
		}

		Progress progress() {
			Instant finished = this.finishedAt;
			String state = (finished == null) ? "running" : (this.failure == null) ? "finished" : "failed";
			return new Progress(state, this.startedAt, finished, this.keysScanned.get(), this.checked.get(),
					this.consistent.get(), this.stale.get(), this.repaired.get(), this.failure);
		}

	}

	/**
	 * Where a full audit is, or how the last one ended.
	 *
	 * @param state {@code never run}, {@code running}, {@code finished} or {@code failed}
	 * @param startedAt when it started
	 * @param finishedAt when it ended, or null
	 * @param keysScanned product keys found so far
	 * @param checked cached products compared with the database (markers are not)
	 * @param consistent those that held the database's version (or a newer one)
	 * @param stale those that still held an older version Δ after the database showed a
	 * newer one
	 * @param repaired stale entries replaced with the database's version's marker
	 * @param failure why it failed, or null
	 */
	record Progress(String state, Instant startedAt, Instant finishedAt, long keysScanned, long checked,
			long consistent, long stale, long repaired, String failure) {

		static final Progress NEVER_RUN = new Progress("never run", null, null, 0, 0, 0, 0, 0, null);

	}

}
