package com.example.catalog.cache;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.core.NestedExceptionUtils;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.stereotype.Component;

/**
 * Runs every Redis command behind a circuit breaker and turns any failure into "no
 * answer", so callers fall back to the database. Redis going away and coming back is
 * logged once each, not per request.
 */
@Component
public class RedisGuard {

	private static final Logger logger = LoggerFactory.getLogger(RedisGuard.class);

	private final CircuitBreaker breaker;

	private final AtomicBoolean available = new AtomicBoolean(true);

	RedisGuard(CacheProperties properties, LettuceConnectionFactory connectionFactory) {
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
				connectionFactory.resetConnection();
			}
		});
	}

	/**
	 * Runs a Redis command. Empty when Redis is skipped (breaker open) or the command
	 * failed in any way: refused, timed out, or answered with an error.
	 */
	public <T> Optional<T> call(Supplier<T> command) {
		try {
			T result = this.breaker.executeSupplier(command);
			if (this.available.compareAndSet(false, true)) {
				logger.info("Redis is reachable again: caching resumed");
			}
			return Optional.ofNullable(result);
		}
		catch (CallNotPermittedException skipped) {
			return Optional.empty();
		}
		catch (RuntimeException failure) {
			// Any failure of the cache must degrade to the database, whatever its type.
			if (this.available.compareAndSet(true, false)) {
				logger.warn("Redis is unavailable ({}): serving from the database without cache until it returns",
						NestedExceptionUtils.getMostSpecificCause(failure).getMessage());
			}
			logger.debug("Redis command failed", failure);
			return Optional.empty();
		}
	}

	/** Whether the last Redis command succeeded. */
	public boolean isAvailable() {
		return this.available.get();
	}

	CircuitBreaker.State breakerState() {
		return this.breaker.getState();
	}

}
