package com.example.catalog.product;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.example.catalog.cache.ProductInvalidations;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.dao.CannotAcquireLockException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.stereotype.Component;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Runs updates of products in write transactions. On SQLite, whose one write connection
 * takes one transaction at a time, the updates that queue for it commit together: one
 * thread takes every update waiting (up to {@value #MOST_PER_TRANSACTION}) and applies
 * them in one transaction, their provisional markers in one round trip to Redis, one
 * commit for all (a group commit). Each waited for the connection in turn before, and
 * under a 95 % read / 5 % update load an update spent nine tenths of its time there
 * (BENCHMARKS.md). An update that fails before it changes anything (the product is gone,
 * its precondition fails) fails alone; any other failure rolls the transaction back, and
 * each of its updates is applied again in a transaction of its own. Results are handed
 * back only after the commit. On PostgreSQL, where updates of different products run side
 * by side, each runs in its own transaction.
 */
@Component
class UpdateBatches implements InitializingBean, DisposableBean {

	private static final Logger logger = LoggerFactory.getLogger(UpdateBatches.class);

	/** Bounds how long one transaction holds SQLite's write lock. */
	static final int MOST_PER_TRANSACTION = 64;

	private final TransactionTemplate transaction;

	private final ProductInvalidations invalidations;

	private final boolean together;

	private final long maxWaitNanos;

	private final BlockingQueue<Update> queue = new LinkedBlockingQueue<>();

	private final DistributionSummary perTransaction;

	private final Thread writer;

	private volatile boolean running = true;

	/**
	 * @param maxWait how long an update waits for its transaction to begin before its
	 * 503, the same as for a pooled connection: the wait here replaces that one
	 */
	UpdateBatches(DataSourceProperties dataSource, PlatformTransactionManager transactionManager,
			ProductInvalidations invalidations, MeterRegistry meters,
			@Value("${catalog.database.connection-timeout:5s}") Duration maxWait) {
		this.transaction = new TransactionTemplate(transactionManager);
		this.invalidations = invalidations;
		this.together = String.valueOf(dataSource.determineUrl()).startsWith("jdbc:sqlite:");
		this.maxWaitNanos = maxWait.toNanos();
		this.perTransaction = DistributionSummary.builder("catalog.database.updates_per_transaction")
			.description("Updates of products committed together in one transaction (SQLite)")
			.register(meters);
		this.writer = new Thread(this::write, "product-updates");
		this.writer.setDaemon(true);
	}

	@Override
	public void afterPropertiesSet() {
		if (this.together) {
			this.writer.start();
		}
	}

	/**
	 * Runs the update in a write transaction and returns what it returned once that
	 * committed; fails with {@link CannotAcquireLockException} (a 503) if its transaction
	 * did not begin within the connection timeout.
	 */
	ProductResponse apply(Supplier<ProductResponse> update) {
		if (!this.together) {
			return this.transaction.execute((status) -> {
				ProductResponse updated = update.get();
				this.invalidations.prepareInvalidation(updated.id(), updated.version());
				return updated;
			});
		}
		Update queued = new Update(update);
		this.queue.add(queued);
		return queued.await(this.maxWaitNanos);
	}

	private void write() {
		List<Update> batch = new ArrayList<>();
		while (this.running) {
			try {
				batch.add(this.queue.take());
				this.queue.drainTo(batch, MOST_PER_TRANSACTION - 1);
				batch.removeIf((update) -> !update.begin());
				if (!batch.isEmpty()) {
					applyTogether(batch);
				}
			}
			catch (InterruptedException stopping) {
				Thread.currentThread().interrupt();
				break;
			}
			catch (RuntimeException | Error unexpected) {
				logger.error("Applying {} updates failed", batch.size(), unexpected);
				batch.forEach((update) -> update.fail(unexpected));
			}
			batch.clear();
		}
		List<Update> left = new ArrayList<>();
		this.queue.drainTo(left);
		left.forEach((update) -> update.fail(new CannotAcquireLockException("The service is stopping")));
	}

	private void applyTogether(List<Update> batch) {
		try {
			this.transaction.executeWithoutResult((status) -> attemptAll(batch));
		}
		catch (RuntimeException failed) {
			if (batch.size() == 1 || databaseUnavailable(failed)) {
				// Alone, each would wait busy_timeout in turn: all fail now.
				batch.forEach((update) -> update.fail(failed));
				return;
			}
			// The transaction cannot go on after such a failure: each update alone tells
			// which one failed, and the others apply.
			logger.debug("{} updates committed together failed ({}); applying each alone", batch.size(),
					failed.toString());
			for (Update update : batch) {
				try {
					this.transaction.executeWithoutResult((status) -> attemptAll(List.of(update)));
					update.publish();
					this.perTransaction.record(1);
				}
				catch (RuntimeException alone) {
					update.fail(alone);
				}
			}
			return;
		}
		batch.forEach(Update::publish);
		this.perTransaction.record(batch.size());
	}

	// Inside the transaction: each update, then the provisional markers of those that
	// wrote, in one round trip.
	private void attemptAll(List<Update> updates) {
		updates.forEach(Update::attempt);
		Map<Long, Long> versions = new LinkedHashMap<>();
		updates.stream()
			.map(Update::written)
			.filter(Objects::nonNull)
			.forEach((updated) -> versions.put(updated.id(), updated.version()));
		this.invalidations.prepareInvalidations(versions);
	}

	// What the API answers with 503: the database is locked by another process past the
	// busy timeout, or cannot be reached. Not the failure of one update.
	private static boolean databaseUnavailable(RuntimeException failure) {
		return failure instanceof CannotCreateTransactionException || failure instanceof TransientDataAccessException
				|| failure instanceof DataAccessResourceFailureException;
	}

	// Not a SmartLifecycle: those stop before the web server has let the requests under
	// way finish, and some of those wait here.
	@Override
	public void destroy() throws InterruptedException {
		if (this.writer.isAlive()) {
			this.running = false;
			this.writer.interrupt();
			this.writer.join(TimeUnit.SECONDS.toMillis(5));
		}
	}

	/** One update waiting for, or in, a transaction, and its outcome. */
	private static final class Update {

		private static final int WAITING = 0;

		private static final int BEGUN = 1;

		private static final int WITHDRAWN = 2;

		private final Supplier<ProductResponse> work;

		private final AtomicInteger state = new AtomicInteger(WAITING);

		private final CompletableFuture<ProductResponse> outcome = new CompletableFuture<>();

		/** What the last attempt returned, handed back once its transaction committed. */
		private ProductResponse result;

		/**
		 * An attempt's failure that left the transaction usable (nothing was changed).
		 */
		private RuntimeException refused;

		Update(Supplier<ProductResponse> work) {
			this.work = work;
		}

		/** False if the caller gave up waiting before a transaction took it. */
		boolean begin() {
			return this.state.compareAndSet(WAITING, BEGUN);
		}

		/**
		 * Runs the update inside the current transaction. The failures that come before
		 * it changes anything are kept for its caller; any other is thrown, to roll the
		 * transaction back.
		 */
		void attempt() {
			this.result = null;
			this.refused = null;
			try {
				this.result = this.work.get();
			}
			catch (ProductNotFoundException | PreconditionFailedException refusal) {
				this.refused = refusal;
			}
		}

		/** What the last attempt wrote, null if it was refused. */
		ProductResponse written() {
			return this.result;
		}

		void publish() {
			if (this.refused != null) {
				this.outcome.completeExceptionally(this.refused);
			}
			else {
				this.outcome.complete(this.result);
			}
		}

		void fail(Throwable failure) {
			this.outcome.completeExceptionally(failure);
		}

		ProductResponse await(long maxWaitNanos) {
			boolean interrupted = false;
			try {
				try {
					return this.outcome.get(maxWaitNanos, TimeUnit.NANOSECONDS);
				}
				catch (TimeoutException | InterruptedException notYet) {
					interrupted = notYet instanceof InterruptedException;
					if (this.state.compareAndSet(WAITING, WITHDRAWN)) {
						throw new CannotAcquireLockException("Other writes took longer than "
								+ Duration.ofNanos(maxWaitNanos) + " to let this update through");
					}
				}
				// Begun: its transaction is under way and decides.
				while (true) {
					try {
						return this.outcome.get();
					}
					catch (InterruptedException again) {
						interrupted = true;
					}
				}
			}
			catch (ExecutionException failed) {
				if (failed.getCause() instanceof RuntimeException runtime) {
					throw runtime;
				}
				if (failed.getCause() instanceof Error error) {
					throw error;
				}
				throw new IllegalStateException(failed.getCause());
			}
			finally {
				if (interrupted) {
					Thread.currentThread().interrupt();
				}
			}
		}

	}

}
