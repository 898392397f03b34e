package com.example.catalog.cache;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.RedisTemplate;
import org.springframework.stereotype.Component;

/**
 * Runs every Redis command behind a circuit breaker and turns any failure into "no
 * answer", so callers fall back to the database. Until a command has succeeded on the
 * current connection, only one caller at a time waits for Redis; the others skip it at
 * once. Redis going away and coming back is logged once each, not per request.
 */
@Component
public class RedisGuard {

	private static final Logger logger = LoggerFactory.getLogger(RedisGuard.class);

	/**
	 * The lifecycle phase of the beans that call Redis from threads of their own: they
	 * start after Spring Data Redis's connection factory (phase 0) and stop before it, so
	 * that their last work at shutdown still reaches Redis, and a stopped context's
	 * threads do not call a stopped factory.
	 */
	public static final int BACKGROUND_PHASE = 100;

	/** The longest a stopping background bean waits for its thread's current task. */
	static final long BACKGROUND_STOP_MILLIS = 3000;

	private final CircuitBreaker breaker;

	/**
	 * What the log and the outage and recovery listeners were last told. It starts at
	 * "up" so that a Redis missing at start-up is reported once as an outage, and its
	 * first answer is not reported as a return.
	 */
	private final AtomicBoolean loggedUp = new AtomicBoolean(true);

	/**
	 * Whether the last command succeeded. Until one has, Spring Data Redis creates the
	 * shared connection under one lock, and a Redis that accepts connections but never
	 * answers would make every waiter spend its own timeout in turn (50 concurrent
	 * requests: 15 s for the last one).
	 */
	private volatile boolean proven;

	/** Held by the one caller that finds out whether an unproven Redis answers. */
	private final Semaphore trial = new Semaphore(1);

	private final List<Runnable> recoveryListeners = new CopyOnWriteArrayList<>();

	private final List<Runnable> openListeners = new CopyOnWriteArrayList<>();

	private final List<Runnable> outageListeners = new CopyOnWriteArrayList<>();

	private final RedisTemplate<String, byte[]> redis;

	RedisGuard(CacheProperties properties, LettuceConnectionFactory connectionFactory,
			RedisTemplate<String, byte[]> productCacheTemplate) {
		this.redis = productCacheTemplate;
		this.breaker = CircuitBreaker.of("redis",
				CircuitBreakerConfig.custom()
					.slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
					.slidingWindowSize(10)
					.minimumNumberOfCalls(5)
					.failureRateThreshold(50)
					.waitDurationInOpenState(properties.breakerOpenDuration())
					.permittedNumberOfCallsInHalfOpenState(2)
					.build());
		// A connection whose peer vanished without closing it (a host gone, a NAT entry
		// dropped, a fail-over to a new address) stays "connected" for Lettuce until the
		// kernel gives up retransmitting, some 15 minutes: every command on it times out.
		// Dropping it when the breaker opens makes the next probe connect afresh.
		this.breaker.getEventPublisher().onStateTransition((event) -> {
			if (event.getStateTransition().getToState() == CircuitBreaker.State.OPEN) {
				this.proven = false;
				connectionFactory.resetConnection();
				this.openListeners.forEach(Runnable::run);
			}
		});
	}

	/**
	 * Tries Redis once at start-up, so that a missing Redis is reported before the first
	 * request.
	 */
	@EventListener(ApplicationReadyEvent.class)
	void checkRedisOnStart() {
		ping();
	}

	/**
	 * Pings Redis (unless the circuit breaker is skipping it) and tells whether it is
	 * usable, for health checks: without one, nothing would notice Redis's return while
	 * no request comes.
	 */
	public boolean ping() {
		call(() -> this.redis.execute((RedisCallback<String>) (connection) -> connection.ping()));
		return isAvailable();
	}

	/**
	 * Runs a Redis command. Empty when Redis is skipped (breaker open) or the command
	 * failed in any way: refused, timed out, or answered with an error.
	 */
	public <T> Optional<T> call(Supplier<T> command) {
		if (this.proven) {
			return attempt(command);
		}
		if (!this.trial.tryAcquire()) {
			return Optional.empty();
		}
		try {
			return attempt(command);
		}
		finally {
			this.trial.release();
		}
	}

	/**
	 * Runs a Redis command only if the last one succeeded: for callers that hold
	 * something others wait for (a database transaction) and must not be the one that
	 * finds out whether Redis answers. Empty otherwise, as {@link #call}.
	 */
	public <T> Optional<T> callIfAnswering(Supplier<T> command) {
		return this.proven ? attempt(command) : Optional.empty();
	}

	/**
	 * Runs the listener (briefly: on whatever thread saw it) each time Redis answers
	 * again after it failed.
	 */
	public void onRecovery(Runnable listener) {
		this.recoveryListeners.add(listener);
	}

	/**
	 * Runs the listener each time the circuit breaker opens, when the shared connection
	 * is dropped: for connections of its own that must be dropped too.
	 */
	public void onOpen(Runnable listener) {
		this.openListeners.add(listener);
	}

	/**
	 * Runs the listener (briefly: on whatever thread saw it) each time a Redis command
	 * fails after the last one succeeded.
	 */
	public void onOutage(Runnable listener) {
		this.outageListeners.add(listener);
	}

	private <T> Optional<T> attempt(Supplier<T> command) {
		try {
			T result = this.breaker.executeSupplier(command);
			this.proven = true;
			if (this.loggedUp.compareAndSet(false, true)) {
				logger.info("Redis is reachable again: caching resumed");
				this.recoveryListeners.forEach(Runnable::run);
			}
			return Optional.ofNullable(result);
		}
		catch (CallNotPermittedException skipped) {
			return Optional.empty();
		}
		catch (RuntimeException failure) {
			this.proven = false;
			// Any failure of the cache must degrade to the database, whatever its type.
			if (this.loggedUp.compareAndSet(true, false)) {
				logger.warn("Redis is unavailable ({}): serving from the database without cache until it returns",
						NestedExceptionUtils.getMostSpecificCause(failure).getMessage());
				this.outageListeners.forEach(Runnable::run);
			}
			logger.debug("Redis command failed", failure);
			return Optional.empty();
		}
	}

	/**
	 * Whether the last Redis command succeeded: false until one has, so that a Redis that
	 * accepts connections but has not answered yet is not reported usable.
	 */
	public boolean isAvailable() {
		return this.proven;
	}

	CircuitBreaker.State breakerState() {
		return this.breaker.getState();
	}

	/**
	 * Waits until the task that a single-threaded executor runs now has ended (a task
	 * queued behind it has run), at most {@link #BACKGROUND_STOP_MILLIS} and even if the
	 * caller is interrupted, then keeps the caller's interrupt: a background bean's
	 * {@code stop()} returns only when its thread no longer calls Redis.
	 */
	static void awaitCurrentTask(ExecutorService executor) {
		Future<?> behind;
		try {
			behind = executor.submit(() -> {
			});
		}
		catch (RejectedExecutionException shutDown) {
			return;
		}
		long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BACKGROUND_STOP_MILLIS);
		boolean interrupted = false;
		long left;
		while ((left = deadline - System.nanoTime()) > 0) {
			try {
				behind.get(left, TimeUnit.NANOSECONDS);
				break;
			}
			catch (InterruptedException ex) {
				interrupted = true;
			}
			catch (ExecutionException | TimeoutException ex) {
				break;
			}
		}
		if (interrupted) {
			Thread.currentThread().interrupt();
		}
	}

	/**
	 * The answer of a command sent without awaiting it, awaited until {@code deadline}
	 * ({@link System#nanoTime}): Lettuce times each command out itself, and the deadline
	 * bounds only a wait it failed to end. An error Redis answered is thrown as Lettuce
	 * made it.
	 * @param late the message of the timeout thrown past the deadline
	 */
	static <T> T await(RedisFuture<T> answer, long deadline, String late) {
		try {
			return answer.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
		}
		catch (ExecutionException failed) {
			throw (failed.getCause() instanceof RuntimeException runtime) ? runtime
					: new IllegalStateException(failed.getCause());
		}
		catch (TimeoutException notAnswered) {
			throw new RedisCommandTimeoutException(late);
		}
		catch (InterruptedException interrupted) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while awaiting Redis", interrupted);
		}
	}

}
