package com.example.catalog.product;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.dao.CannotAcquireLockException;
import org.springframework.stereotype.Component;

/**
 * Lets the writers of one product into the database one at a time, in the order they
 * came, and keeps the others waiting here, without a database connection. The row lock
 * ({@link ProductRepository#findLockedById}) alone would order them too, but each waiter
 * would hold a pooled connection meanwhile: a few dozen clients writing one product would
 * take the whole pool and leave none for anything else. Writers on other instances still
 * meet at the row lock.
 */
@Component
class ProductWriters {

	private final ConcurrentMap<Long, Turns> turns = new ConcurrentHashMap<>();

	private final long maxWaitNanos;

	/**
	 * @param maxWait how long a writer waits for its turn before its 503, the same as for
	 * a pooled connection: the wait here replaces that one
	 */
	ProductWriters(@Value("${catalog.database.connection-timeout:5s}") Duration maxWait) {
		this.maxWaitNanos = maxWait.toNanos();
	}

	/**
	 * Runs the write once no other write of this product is running in this instance;
	 * fails with {@link CannotAcquireLockException} (a 503) if that takes longer than the
	 * connection timeout.
	 */
	<T> T oneAtATime(long id, Supplier<T> write) {
		// A product's queue exists while someone uses it; the count changes only inside
		// the map's atomic compute for its key.
		Turns queue = this.turns.compute(id, (key, current) -> {
			Turns used = (current != null) ? current : new Turns();
			used.users++;
			return used;
		});
		try {
			if (!queue.lock.tryLock(this.maxWaitNanos, TimeUnit.NANOSECONDS)) {
				throw new CannotAcquireLockException("Other writes of product " + id + " took longer than "
						+ Duration.ofNanos(this.maxWaitNanos) + " to let this one through");
			}
			try {
				return write.get();
			}
			finally {
				queue.lock.unlock();
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new CannotAcquireLockException("Interrupted while waiting to write product " + id, ex);
		}
		finally {
			this.turns.computeIfPresent(id, (key, current) -> (--current.users == 0) ? null : current);
		}
	}

	/** How many products have writers running or waiting: none once all are done. */
	int productsBeingWritten() {
		return this.turns.size();
	}

	/** Writers of one product in this instance: fair, so first come, first written. */
	private static final class Turns {

		private final ReentrantLock lock = new ReentrantLock(true);

		private int users;

	}

}
