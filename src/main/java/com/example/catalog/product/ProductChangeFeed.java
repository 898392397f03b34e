package com.example.catalog.product;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.stream.Collectors;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.example.catalog.cache.CacheProperties;
import com.example.catalog.cache.ProductInvalidations;
import com.example.catalog.cache.ProductInvalidations.Reconciled;
import com.example.catalog.cache.ProductKeys;
import com.example.catalog.cache.ProductPageCache;
import com.example.catalog.cache.RedisGuard;
import com.example.catalog.cache.SingleFlight;

import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Invalidates the cache for every committed change to {@code products}, whoever made it:
 * this service, {@code sqlite3} or {@code psql}, an import, a restore. Triggers
 * (migration V3) add one row per changed product to {@code product_changes} in the
 * writer's own transaction; this feed reads them in commit order, marks each product in
 * Redis with the version the database holds now (or as deleted), starts a new generation
 * of the list pages once per batch, and repairs the search column of names changed
 * elsewhere. Its position is a row of {@code product_change_cursor} per cache (key
 * prefix), shared by the instances: on PostgreSQL one instance at a time applies a batch
 * (it locks the row, the others skip it); on SQLite they may apply one twice, which
 * changes nothing. A notification (PostgreSQL's {@code LISTEN}; the service's own writes
 * send none, migration V4) or a short poll wakes it; at start-up it catches up before the
 * server takes requests. A batch Redis could not take is applied again, and its products
 * are read around the cache meanwhile.
 */
@Component
class ProductChangeFeed implements SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(ProductChangeFeed.class);

	/** How long a PostgreSQL feed waits for a notification before it reads anyway. */
	private static final int NOTIFICATION_WAIT_MILLIS = 1000;

	/**
	 * The least time between two reads woken by notifications. Under a stream of writes
	 * from outside the service every commit notifies (the service's own notify none since
	 * migration V4), and reading as they came cost each write about 0.1 ms of CPU in the
	 * service and in PostgreSQL (BENCHMARKS.md, note 21); now the commits of one gap are
	 * read together. A change after a quiet spell is still read at once.
	 */
	private static final long NOTIFIED_READ_GAP_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

	private static final long PRUNE_EVERY_MILLIS = Duration.ofMinutes(1).toMillis();

	private final NamedParameterJdbcTemplate jdbc;

	private final TransactionTemplate writes;

	private final TransactionTemplate reads;

	private final ProductInvalidations invalidations;

	private final ProductPageCache pages;

	private final ProductKeys keys;

	private final SingleFlight loads;

	private final RedisGuard redis;

	private final ChangeFeedProperties properties;

	private final DataSourceProperties dataSource;

	private final boolean postgres;

	/** The cursor's name: the caches of two key prefixes are two caches. */
	private final String cache;

	private final long retentionMillis;

	private final Counter applied;

	private final AtomicBoolean lagReported = new AtomicBoolean();

	private volatile boolean running;

	/** When the feed last found nothing left to apply. */
	private volatile long caughtUpAt = System.currentTimeMillis();

	/** When the feed's thread last began to read the change table (System.nanoTime). */
	private long readAt = System.nanoTime() - NOTIFIED_READ_GAP_NANOS;

	private long prunedAt;

	private volatile long pingedAt;

	/** Whether the last read of the change table failed, so that it is logged once. */
	private volatile boolean readFailing;

	/** PostgreSQL's LISTEN connection; only the feed's thread touches it. */
	private Connection listening;

	private Thread thread;

	ProductChangeFeed(NamedParameterJdbcTemplate jdbc, PlatformTransactionManager transactionManager,
			ProductInvalidations invalidations, ProductPageCache pages, ProductKeys keys, SingleFlight loads,
			RedisGuard redis, ChangeFeedProperties properties, CacheProperties cacheProperties,
			DataSourceProperties dataSource, MeterRegistry meters) {
		this.jdbc = jdbc;
		this.writes = new TransactionTemplate(transactionManager);
		this.reads = new TransactionTemplate(transactionManager);
		this.reads.setReadOnly(true);
		this.invalidations = invalidations;
		this.pages = pages;
		this.keys = keys;
		this.loads = loads;
		this.redis = redis;
		this.properties = properties;
		this.dataSource = dataSource;
		this.postgres = String.valueOf(dataSource.determineUrl()).startsWith("jdbc:postgresql:");
		this.cache = cacheProperties.keyPrefix();
		// Nothing cached before a change may outlive its row: keep rows longer than any
		// entry's TTL (jittered), whatever was configured.
		double jitter = 1 + cacheProperties.ttlJitter();
		long longestTtl = Math
			.round(Math.max(cacheProperties.ttl().toMillis(), cacheProperties.negativeTtl().toMillis()) * jitter);
		this.retentionMillis = Math.max(properties.retention().toMillis(), longestTtl + 60_000);
		this.applied = Counter.builder("catalog.feed.changes")
			.description("Changes of the products table applied to the cache by the change feed")
			.register(meters);
		TimeGauge.builder("catalog.feed.lag", this, TimeUnit.MILLISECONDS, ProductChangeFeed::lag)
			.description("How long since the change feed last had nothing left to apply")
			.register(meters);
	}

	/**
	 * Catches up with the changes made while no instance ran, before the server takes
	 * requests, then follows the table on a thread of its own.
	 */
	@Override
	public void start() {
		this.running = true;
		if (this.properties.enabled()) {
			this.redis.ping();
			long started = System.nanoTime();
			int changes = drain();
			if (changes > 0) {
				logger.info("Change feed: applied {} changes made while no instance was running ({} ms)", changes,
						(System.nanoTime() - started) / 1_000_000);
			}
		}
		this.thread = new Thread(this::follow, "product-change-feed");
		this.thread.setDaemon(true);
		this.thread.start();
	}

	@Override
	public void stop() {
		this.running = false;
		Thread following = this.thread;
		if (following != null) {
			following.interrupt();
			awaitEnd(following, NOTIFICATION_WAIT_MILLIS + 1000);
		}
	}

	/**
	 * Waits for the thread even if the caller is interrupted (a caller's interrupt made
	 * {@code join} return at once, and Redis's connection factory stopped under a feed
	 * still applying a batch), then keeps the caller's interrupt.
	 */
	private static void awaitEnd(Thread thread, long millis) {
		long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
		boolean interrupted = false;
		long left;
		while (thread.isAlive() && (left = deadline - System.nanoTime()) > 0) {
			try {
				thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
			}
			catch (InterruptedException ex) {
				interrupted = true;
			}
		}
		if (interrupted) {
			Thread.currentThread().interrupt();
		}
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	/**
	 * After Redis's connection factory starts and before it stops; before the web server
	 * starts (its phase is near {@code Integer.MAX_VALUE}).
	 */
	@Override
	public int getPhase() {
		return RedisGuard.BACKGROUND_PHASE;
	}

	/**
	 * Whether the feed's thread is alive: from {@link #start} until {@link #stop}
	 * returns.
	 */
	boolean isFollowing() {
		Thread following = this.thread;
		return following != null && following.isAlive();
	}

	/** How long since the feed last had nothing left to apply, in milliseconds. */
	long lag() {
		return (this.properties.enabled() && this.running) ? System.currentTimeMillis() - this.caughtUpAt : 0;
	}

	boolean isBehind() {
		return lag() > this.properties.maxLag().toMillis();
	}

	private void follow() {
		while (this.running) {
			try {
				awaitChange();
			}
			catch (InterruptedException stopping) {
				break;
			}
			if (this.properties.enabled()) {
				this.readAt = System.nanoTime();
				drain();
				reportLag();
			}
			pruneNowAndThen();
		}
		closeListener();
	}

	/**
	 * Applies batches until nothing is left, or until one could not be applied (Redis or
	 * the database unavailable): it is tried again on the next wake-up.
	 * @return the number of changes applied
	 */
	int drain() {
		int total = 0;
		try {
			if (!this.redis.isAvailable() && !pingNowAndThen()) {
				// Nothing could be marked: the service reads around Redis meanwhile,
				// and the changes wait in the table.
				return 0;
			}
			// Stops between batches when the lifecycle stops: the rest waits in the
			// table.
			while (this.running) {
				Batch batch = this.postgres ? applyNextOnPostgres() : applyNextOnSqlite();
				total += batch.changes();
				if (!batch.held()) {
					return total;
				}
				if (batch.changes() < this.properties.batchSize()) {
					this.caughtUpAt = System.currentTimeMillis();
					this.readFailing = false;
					return total;
				}
			}
			return total;
		}
		catch (RuntimeException failure) {
			logger.debug("Change feed: reading the changes failed", failure);
			if (!this.readFailing) {
				// Once per episode: the poll retries every few hundred milliseconds.
				this.readFailing = true;
				logger.info("Change feed: reading the changes failed ({}); retrying",
						NestedExceptionUtils.getMostSpecificCause(failure).getMessage());
			}
			return total;
		}
	}

	/**
	 * PostgreSQL: the cursor row is locked for the batch, so that one instance applies
	 * it; an instance that finds it locked leaves the batch to the one holding it.
	 */
	private Batch applyNextOnPostgres() {
		return this.writes.execute((status) -> {
			List<Position> cursor = this.jdbc.query(
					"SELECT tx::text AS tx, seq FROM product_change_cursor WHERE name = :name FOR UPDATE SKIP LOCKED",
					Map.of("name", this.cache), (row, n) -> new Position(row.getString("tx"), row.getLong("seq")));
			if (cursor.isEmpty()) {
				// A new cache starts at the newest change; or another instance holds the
				// row, and this batch is its.
				createCursor("INSERT INTO product_change_cursor (name, tx, seq) SELECT :name, "
						+ "COALESCE((SELECT tx FROM product_changes ORDER BY tx DESC, seq DESC LIMIT 1), '0'::xid8), "
						+ "COALESCE((SELECT seq FROM product_changes ORDER BY tx DESC, seq DESC LIMIT 1), 0) "
						+ "ON CONFLICT (name) DO NOTHING");
				return Batch.NONE;
			}
			List<Change> changes = this.jdbc.query(
					"SELECT tx::text AS tx, seq, product_id FROM product_changes "
							+ "WHERE (tx, seq) > (CAST(:tx AS xid8), :seq) "
							+ "AND tx < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY tx, seq LIMIT :limit",
					Map.of("tx", cursor.get(0).tx(), "seq", cursor.get(0).seq(), "limit", this.properties.batchSize()),
					(row, n) -> new Change(new Position(row.getString("tx"), row.getLong("seq")),
							row.getLong("product_id")));
			if (!apply(changes)) {
				return new Batch(0, false);
			}
			if (!changes.isEmpty()) {
				Position last = changes.get(changes.size() - 1).position();
				this.jdbc.update(
						"UPDATE product_change_cursor SET tx = CAST(:tx AS xid8), seq = :seq WHERE name = :name",
						Map.of("tx", last.tx(), "seq", last.seq(), "name", this.cache));
			}
			return new Batch(changes.size(), true);
		});
	}

	/**
	 * SQLite: one writer at a time, so seq is the order of the commits. The batch is read
	 * and applied outside any write transaction (which would hold SQLite's one write lock
	 * across Redis), then the cursor moves on unless another instance moved it meanwhile.
	 */
	private Batch applyNextOnSqlite() {
		List<Long> cursor = this.reads
			.execute((status) -> this.jdbc.queryForList("SELECT seq FROM product_change_cursor WHERE name = :name",
					Map.of("name", this.cache), Long.class));
		if (cursor.isEmpty()) {
			this.writes.execute((status) -> createCursor("INSERT OR IGNORE INTO product_change_cursor (name, tx, seq) "
					+ "SELECT :name, 0, COALESCE(MAX(seq), 0) FROM product_changes"));
			return Batch.NONE;
		}
		long from = cursor.get(0);
		List<Change> changes = this.reads.execute((status) -> this.jdbc.query(
				"SELECT seq, product_id FROM product_changes WHERE seq > :seq ORDER BY seq LIMIT :limit",
				Map.of("seq", from, "limit", this.properties.batchSize()),
				(row, n) -> new Change(new Position("0", row.getLong("seq")), row.getLong("product_id"))));
		if (!apply(changes)) {
			return new Batch(0, false);
		}
		if (!changes.isEmpty()) {
			long last = changes.get(changes.size() - 1).position().seq();
			this.writes.execute((status) -> this.jdbc.update(
					"UPDATE product_change_cursor SET seq = :last WHERE name = :name AND seq = :from",
					Map.of("last", last, "name", this.cache, "from", from)));
		}
		return new Batch(changes.size(), true);
	}

	/**
	 * Whether Redis answers a ping, asked at most once a second: a quiet service has no
	 * other command that would notice Redis's return.
	 */
	private boolean pingNowAndThen() {
		long now = System.currentTimeMillis();
		if (now - this.pingedAt < 1000) {
			return false;
		}
		this.pingedAt = now;
		return this.redis.ping();
	}

	private int createCursor(String insert) {
		return this.jdbc.update(insert, Map.of("name", this.cache));
	}

	/**
	 * Marks every product of the batch with what the database holds now: its version, or
	 * deleted. Reading the rows now, not what the triggers saw, keeps the order of two
	 * changes of one product from mattering.
	 * @return whether Redis holds every mark
	 */
	private boolean apply(List<Change> changes) {
		if (changes.isEmpty()) {
			return true;
		}
		Set<Long> ids = changes.stream().map(Change::productId).collect(Collectors.toCollection(LinkedHashSet::new));
		Map<Long, Row> rows = readRows(ids);
		if (!this.running) {
			// Stopping: the batch is applied again from the table's cursor.
			return false;
		}
		boolean held = true;
		Map<Long, Long> versions = new LinkedHashMap<>();
		for (long id : ids) {
			this.loads.forget(id);
			Row row = rows.get(id);
			if (row == null) {
				held &= this.invalidations.reconcileDeleted(id);
			}
			else {
				versions.put(id, row.version());
			}
		}
		List<Long> deletionMarked = new ArrayList<>();
		for (Map.Entry<Long, Reconciled> marked : this.invalidations.reconcileAll(versions).entrySet()) {
			switch (marked.getValue()) {
				case HELD -> {
				}
				case KEPT_FOR_LATER -> held = false;
				case DELETION_KEPT -> deletionMarked.add(marked.getKey());
			}
		}
		// A deletion marker newer than this batch's read of the row: the service deleted
		// the product since (the deletion's own change follows), or the row was deleted
		// and then inserted again (a restore). Only a read after the marker tells.
		if (!deletionMarked.isEmpty()) {
			for (Row restored : readRows(deletionMarked).values()) {
				held &= this.invalidations.reconcileRestored(restored.id(), restored.version());
			}
		}
		// The search column first, then the list pages: a page read after the new
		// generation finds the names as folded. The repair is the service's own write and
		// notifies no feed (migration V4), so nothing else would start a generation soon.
		repairSearchNames(rows.values());
		this.pages.invalidateAll();
		this.applied.increment(changes.size());
		logger.debug("Change feed: applied {} changes of {} products", changes.size(), ids.size());
		return held;
	}

	private Map<Long, Row> readRows(Collection<Long> ids) {
		return this.reads
			.execute((status) -> this.jdbc.query(
					"SELECT id, version, name, name_lower FROM products WHERE id IN (:ids)", Map.of("ids", ids),
					(row, n) -> new Row(row.getLong("id"), row.getLong("version"), row.getString("name"),
							row.getString("name_lower"))))
			.stream()
			.collect(Collectors.toMap(Row::id, Function.identity()));
	}

	/**
	 * A name written elsewhere has its lower-cased copy, which the name filters search,
	 * folded by whatever the writer used (SQLite's lower() folds ASCII only, or nothing):
	 * it is folded again with the service's own rules. Not a visible change: the version
	 * guard leaves the version alone.
	 */
	private void repairSearchNames(Iterable<Row> rows) {
		for (Row row : rows) {
			String folded = Product.lowerCase(row.name());
			if (!folded.equals(row.nameLower())) {
				this.writes.execute((status) -> this.jdbc.update(
						"UPDATE products SET name_lower = :folded WHERE id = :id AND name = :name",
						Map.of("folded", folded, "id", row.id(), "name", row.name())));
			}
		}
	}

	private void awaitChange() throws InterruptedException {
		if (this.postgres && this.properties.enabled()) {
			try {
				if (this.listening == null) {
					this.listening = listen();
				}
				// Returns at the first notification, or after the wait: rows of a
				// transaction that was still running at the last read are read then.
				this.listening.unwrap(PGConnection.class).getNotifications(NOTIFICATION_WAIT_MILLIS);
				if (Thread.interrupted()) {
					throw new InterruptedException();
				}
				// The commits that notify meanwhile are read together after the gap.
				long early = this.readAt + NOTIFIED_READ_GAP_NANOS - System.nanoTime();
				if (early > 0) {
					TimeUnit.NANOSECONDS.sleep(early);
				}
				return;
			}
			catch (SQLException ex) {
				logger.debug("Change feed: the LISTEN connection failed; polling until it is back", ex);
				closeListener();
			}
		}
		Thread.sleep(this.properties.pollInterval().toMillis());
	}

	private Connection listen() throws SQLException {
		Connection connection = DriverManager.getConnection(this.dataSource.determineUrl(),
				this.dataSource.determineUsername(), this.dataSource.determinePassword());
		try (Statement statement = connection.createStatement()) {
			statement.execute("LISTEN product_changes");
		}
		catch (SQLException ex) {
			connection.close();
			throw ex;
		}
		return connection;
	}

	private void closeListener() {
		if (this.listening != null) {
			try {
				this.listening.close();
			}
			catch (SQLException ex) {
				logger.debug("Change feed: closing the LISTEN connection failed", ex);
			}
			this.listening = null;
		}
	}

	/**
	 * Past {@code CHANGE_FEED_MAX_LAG}: a WARN, and cache entries live at most
	 * {@code CHANGE_FEED_DEGRADED_TTL} until the feed has caught up, so that a change it
	 * has not applied is served for a bounded time, not for a whole TTL in silence.
	 */
	private void reportLag() {
		if (!this.redis.isAvailable()) {
			// Nothing is read from Redis meanwhile, and RedisGuard said so once.
			return;
		}
		long lag = lag();
		if (lag > this.properties.maxLag().toMillis()) {
			if (this.lagReported.compareAndSet(false, true)) {
				this.keys.boundEntryTtl(this.properties.degradedTtl());
				// Named by its cache's key prefix: services that share a database each
				// have their own feed and cursor.
				logger.warn(
						"Change feed of '{}': {} s behind (CHANGE_FEED_MAX_LAG {}); until it catches up, changes made "
								+ "outside this service wait to be applied, and cached products live at most {} "
								+ "(CHANGE_FEED_DEGRADED_TTL)",
						this.cache, lag / 1000, this.properties.maxLag(), this.properties.degradedTtl());
			}
		}
		else if (this.lagReported.compareAndSet(true, false)) {
			this.keys.unboundEntryTtl();
			logger.info("Change feed of '{}': caught up again; cached products live their full TTL", this.cache);
		}
	}

	/** Deletes changes older than any cache entry can be, about once a minute. */
	private void pruneNowAndThen() {
		long now = System.currentTimeMillis();
		if (now - this.prunedAt < PRUNE_EVERY_MILLIS) {
			return;
		}
		this.prunedAt = now;
		try {
			int pruned = prune(now);
			if (pruned > 0) {
				logger.debug("Change feed: pruned {} changes older than {} s", pruned, this.retentionMillis / 1000);
			}
		}
		catch (RuntimeException failure) {
			logger.debug("Change feed: pruning failed", failure);
		}
	}

	/** Deletes the changes that were older than the retention at {@code now}. */
	int prune(long now) {
		return this.writes
			.execute((status) -> this.jdbc.update("DELETE FROM product_changes WHERE changed_at < :before",
					Map.of("before", now - this.retentionMillis)));
	}

	/** A place in the change table: the writing transaction (0 on SQLite), then seq. */
	private record Position(String tx, long seq) {

	}

	private record Change(Position position, long productId) {

	}

	private record Row(long id, long version, String name, String nameLower) {

	}

	/** What one batch did: how many changes, and whether Redis took all its marks. */
	private record Batch(int changes, boolean held) {

		static final Batch NONE = new Batch(0, true);

	}

}
