package com.example.catalog.product;

import java.util.function.IntSupplier;
import java.util.function.Supplier;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadFullException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.example.catalog.cache.RedisGuard;

import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.stereotype.Component;

/**
 * The bulkhead on the database reads made while Redis is unavailable. Then every read
 * that Redis served becomes a database read; left alone they would queue for the pool and
 * answer after {@code DATABASE_CONNECTION_TIMEOUT}, or not at all. At most as many run at
 * once as the read pool holds connections (or {@code FALLBACK_MAX_CONCURRENT_READS}), and
 * one beyond that waits {@code FALLBACK_MAX_WAIT} for a place, then is refused
 * ({@link TooManyFallbackReadsException}, a 503 with {@code Retry-After}). While Redis
 * answers, reads pass untouched: a miss costs one read per product, not one per request.
 */
@Component
class FallbackReads {

	private static final Logger logger = LoggerFactory.getLogger(FallbackReads.class);

	private final RedisGuard redis;

	private final Bulkhead bulkhead;

	private final int limit;

	private final Counter refused;

	/**
	 * @param readConnections the database's read pool size, published by the database
	 * room under this name (no room imports that one)
	 */
	FallbackReads(FallbackProperties properties, @Qualifier("databaseReadConnections") IntSupplier readConnections,
			RedisGuard redis, MeterRegistry meters) {
		this.redis = redis;
		this.limit = (properties.maxConcurrentReads() > 0) ? properties.maxConcurrentReads()
				: Math.max(1, readConnections.getAsInt());
		this.bulkhead = Bulkhead.of("database-fallback-reads",
				BulkheadConfig.custom().maxConcurrentCalls(this.limit).maxWaitDuration(properties.maxWait()).build());
		this.refused = Counter.builder("catalog.fallback.refused")
			.description("Database reads refused (503) while Redis was unavailable: the bulkhead was full")
			.register(meters);
		Gauge
			.builder("catalog.fallback.reads_active",
					() -> this.limit - this.bulkhead.getMetrics().getAvailableConcurrentCalls())
			.description("Database reads running while Redis is unavailable, inside the bulkhead")
			.register(meters);
		Gauge.builder("catalog.fallback.reads_limit", () -> this.limit)
			.description("The most database reads that run at once while Redis is unavailable")
			.register(meters);
		logger.debug("While Redis is unavailable, at most {} database reads run at once", this.limit);
	}

	/** Runs the read, inside the bulkhead while Redis is unavailable. */
	<T> T read(Supplier<T> read) {
		if (this.redis.isAvailable()) {
			return read.get();
		}
		try {
			return this.bulkhead.executeSupplier(read);
		}
		catch (BulkheadFullException full) {
			this.refused.increment();
			throw new TooManyFallbackReadsException(this.limit);
		}
	}

	int limit() {
		return this.limit;
	}

}
