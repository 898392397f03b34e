package com.example.catalog.product;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.dao.CannotAcquireLockException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The writers of one product go through one at a time; writers of other products do not
 * wait for them; a writer that waits too long gives up; nothing is kept once all are
 * done.
 */
class ProductWritersTests {

	private final ExecutorService threads = Executors.newCachedThreadPool();

	@AfterEach
	void stopThreads() {
		this.threads.shutdownNow();
	}

	@Test
	void writersOfOneProductRunOneAtATimeAndLeaveNothingBehind() throws Exception {
		ProductWriters writers = new ProductWriters(Duration.ofSeconds(10));
		AtomicInteger inside = new AtomicInteger();
		AtomicInteger mostInside = new AtomicInteger();
		CountDownLatch start = new CountDownLatch(1);
		List<Future<Integer>> done = new ArrayList<>();
		for (int i = 0; i < 16; i++) {
			done.add(this.threads.submit(() -> {
				start.await();
				int total = 0;
				for (int write = 0; write < 50; write++) {
					total += writers.oneAtATime(7, () -> {
						mostInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
						Thread.yield();
						inside.decrementAndGet();
						return 1;
					});
				}
				return total;
			}));
		}
		start.countDown();
		int writes = 0;
		for (Future<Integer> writer : done) {
			writes += writer.get(30, TimeUnit.SECONDS);
		}

		assertThat(writes).isEqualTo(800);
		assertThat(mostInside.get()).as("writers of product 7 at once").isEqualTo(1);
		assertThat(writers.productsBeingWritten()).isZero();
	}

	@Test
	void aWriterOfAnotherProductDoesNotWait() throws Exception {
		ProductWriters writers = new ProductWriters(Duration.ofSeconds(10));
		CountDownLatch release = new CountDownLatch(1);
		Future<Object> slow = holdTheTurnOfProductOne(writers, release);

		assertThat(writers.oneAtATime(2, () -> "written")).isEqualTo("written");
		assertThat(writers.productsBeingWritten()).isEqualTo(1);
		release.countDown();
		slow.get(10, TimeUnit.SECONDS);
		assertThat(writers.productsBeingWritten()).isZero();
	}

	@Test
	void aWriterThatWaitsLongerThanTheTimeoutGivesUpAndWritesNothing() throws Exception {
		ProductWriters writers = new ProductWriters(Duration.ofMillis(200));
		CountDownLatch release = new CountDownLatch(1);
		Future<Object> slow = holdTheTurnOfProductOne(writers, release);
		AtomicInteger written = new AtomicInteger();

		long begin = System.nanoTime();
		assertThatExceptionOfType(CannotAcquireLockException.class)
			.isThrownBy(() -> writers.oneAtATime(1, written::incrementAndGet));
		assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin)).isBetween(150L, 5_000L);
		assertThat(written.get()).isZero();
		release.countDown();
		slow.get(10, TimeUnit.SECONDS);
		assertThat(writers.productsBeingWritten()).isZero();
		assertThat(writers.oneAtATime(1, written::incrementAndGet)).isEqualTo(1);
	}

	private static Object await(CountDownLatch latch) {
		try {
			return latch.await(10, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

	/**
	 * Starts a writer of product 1 that keeps its turn until {@code release}, and returns
	 * once it has it.
	 */
	private Future<Object> holdTheTurnOfProductOne(ProductWriters writers, CountDownLatch release)
			throws InterruptedException {
		CountDownLatch holding = new CountDownLatch(1);
		Future<Object> slow = this.threads.submit(() -> writers.oneAtATime(1, () -> {
			holding.countDown();
			return await(release);
		}));
		assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
		return slow;
	}

}
