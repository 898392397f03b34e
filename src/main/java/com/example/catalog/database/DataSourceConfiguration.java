package com.example.catalog.database;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.function.IntSupplier;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.SQLExceptionOverride;

import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.datasource.LazyConnectionDataSourceProxy;

/**
 * The connection pool, with SQLite's settings when {@code DATABASE_URL} names an SQLite
 * file, and a connection timeout of a few seconds ({@link DatabaseProperties}). Any
 * {@code spring.datasource.hikari.*} property still overrides what is set here. On
 * SQLite, read-only transactions get a small pool of their own (see
 * {@link SqliteDataSource}); on PostgreSQL each connection names itself the service's
 * ({@code catalog.writer}), so that its writes notify no change feed.
 */
@Configuration(proxyBeanMethods = false)
class DataSourceConfiguration {

	private static final String SQLITE_PREFIX = "jdbc:sqlite:";

	private static final String POSTGRESQL_PREFIX = "jdbc:postgresql:";

	/**
	 * Readers at once on SQLite's read pool: the machine's cores are the limit anyway.
	 */
	private static final int SQLITE_READERS = 4;

	@Bean
	DataSource dataSource(DataSourceProperties properties, DatabaseProperties database, Environment environment) {
		HikariDataSource dataSource = pool(properties, database);
		String url = properties.determineUrl();
		boolean sqlite = url != null && url.startsWith(SQLITE_PREFIX);
		if (sqlite) {
			configureSqlite(dataSource, url.substring(SQLITE_PREFIX.length()));
		}
		else if (url != null && url.startsWith(POSTGRESQL_PREFIX)) {
			// The service's own changes then notify no change feed (migration V4): it
			// puts what it commits in Redis itself, and a notifying commit waits for
			// every other one.
			dataSource.setConnectionInitSql("SET catalog.writer = 'product-catalog'");
		}
		// After the settings above, so that spring.datasource.hikari.* still wins.
		Binder.get(environment).bind("spring.datasource.hikari", Bindable.ofInstance(dataSource));
		if (!sqlite) {
			return dataSource;
		}
		HikariDataSource reads = pool(properties, database);
		configureSqliteReads(reads);
		return new SqliteDataSource(dataSource, reads);
	}

	/**
	 * How many reads the database serves at once: the read pool's size on SQLite, the
	 * pool's on PostgreSQL. Published by name for the bulkhead of the reads made while
	 * Redis is unavailable ({@code product/FallbackReads}), since no room imports this
	 * one.
	 */
	@Bean
	IntSupplier databaseReadConnections(DataSource dataSource) {
		return () -> readPool(dataSource).getMaximumPoolSize();
	}

	private static HikariDataSource readPool(DataSource dataSource) {
		if (dataSource instanceof SqliteDataSource sqlite) {
			return sqlite.reads;
		}
		try {
			return dataSource.unwrap(HikariDataSource.class);
		}
		catch (SQLException ex) {
			throw new IllegalStateException("The data source is not a HikariCP pool", ex);
		}
	}

	private static HikariDataSource pool(DataSourceProperties properties, DatabaseProperties database) {
		HikariDataSource dataSource = properties.initializeDataSourceBuilder().type(HikariDataSource.class).build();
		dataSource.setConnectionTimeout(database.connectionTimeout().toMillis());
		return dataSource;
	}

	private static void configureSqlite(HikariDataSource dataSource, String location) {
		createParentFolder(location);
		// WAL lets readers go on while a write commits; NORMAL syncs at checkpoints, not
		// at every commit, which in WAL mode still never corrupts the file (a power cut
		// may lose the last commits, a process crash loses nothing).
		dataSource.addDataSourceProperty("journal_mode", "WAL");
		dataSource.addDataSourceProperty("synchronous", "NORMAL");
		// Another process (sqlite3, a second instance) may hold the lock for a moment:
		// wait, don't fail.
		dataSource.addDataSourceProperty("busy_timeout", "5000");
		// Take the write lock at BEGIN: a transaction that reads and then writes would
		// otherwise fail with SQLITE_BUSY_SNAPSHOT, which busy_timeout does not retry.
		dataSource.addDataSourceProperty("transaction_mode", "IMMEDIATE");
		dataSource.addDataSourceProperty("foreign_keys", "true");
		// SQLite runs one write at a time, and with IMMEDIATE every transaction is a
		// writer: more connections would only wait on each other's locks in
		// sleep-and-retry loops. One connection queues requests fairly in the pool
		// instead; reads that Redis answers never take it.
		dataSource.setMaximumPoolSize(1);
		dataSource.setPoolName("sqlite");
		dataSource.setExceptionOverride(new EvictAfterBusy());
	}

	// Read-only transactions: in WAL mode a reader sees the last commit and neither waits
	// for the writer nor holds it up, so a reader needs neither the write lock (DEFERRED,
	// the default) nor the one write connection.
	private static void configureSqliteReads(HikariDataSource reads) {
		reads.addDataSourceProperty("journal_mode", "WAL");
		reads.addDataSourceProperty("busy_timeout", "5000");
		reads.addDataSourceProperty("foreign_keys", "true");
		reads.setMaximumPoolSize(SQLITE_READERS);
		reads.setMinimumIdle(1);
		reads.setPoolName("sqlite-read");
		reads.setExceptionOverride(new EvictAfterBusy());
	}

	/**
	 * SQLite's two pools behind one {@link DataSource}: read-only transactions
	 * ({@code @Transactional(readOnly = true)}, Spring Data's finders) take a connection
	 * of the read pool, everything else the single write connection. The connection is
	 * taken at the first statement, when the transaction's read-only flag is known
	 * (Spring's {@link LazyConnectionDataSourceProxy}). Measured with
	 * {@code bench/sqlite-load.sh}: reads that miss Redis used to queue for the write
	 * connection and take SQLite's write lock (BENCHMARKS.md).
	 */
	static final class SqliteDataSource extends LazyConnectionDataSourceProxy implements AutoCloseable {

		private final HikariDataSource writes;

		private final HikariDataSource reads;

		SqliteDataSource(HikariDataSource writes, HikariDataSource reads) {
			super(writes);
			setReadOnlyDataSource(reads);
			this.writes = writes;
			this.reads = reads;
		}

		@Override
		public void close() {
			this.reads.close();
			this.writes.close();
		}

	}

	/**
	 * Evicts a connection that answered SQLITE_BUSY. With IMMEDIATE transactions that
	 * happens at BEGIN, when another process holds the write lock past busy_timeout, and
	 * sqlite-jdbc has by then already marked the connection as inside a transaction while
	 * Hikari still sees it in auto-commit: back in the pool, every later transaction on
	 * it skipped its BEGIN and failed at COMMIT ("cannot commit - no transaction is
	 * active", a 500 for every write until a restart). A new connection costs a file
	 * open.
	 */
	static final class EvictAfterBusy implements SQLExceptionOverride {

		private static final int SQLITE_BUSY = 5;

		// Qualified: inside this class "Override" names SQLExceptionOverride's enum.
		@java.lang.Override
		public Override adjudicate(SQLException ex) {
			// The low byte is the primary result code, also for the extended BUSY codes.
			return ((ex.getErrorCode() & 0xff) == SQLITE_BUSY) ? Override.MUST_EVICT : Override.CONTINUE_EVICT;
		}

	}

	private static void createParentFolder(String location) {
		String file = location.split("\\?", 2)[0];
		if (file.isEmpty() || file.equals(":memory:") || file.startsWith("file:")) {
			return;
		}
		Path parent = Path.of(file).toAbsolutePath().getParent();
		try {
			Files.createDirectories(parent);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot create the folder of the SQLite database " + parent
					+ " (check DATABASE_URL and the folder's permissions)", ex);
		}
	}

}
