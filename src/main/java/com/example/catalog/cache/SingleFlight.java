package com.example.catalog.cache;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Supplier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.stereotype.Component;

/**
 * Lets one caller per product id load from the database while concurrent callers for the
 * same id wait for its result, so a cold or just-expired hot key costs one database read
 * per instance, not one per request.
 */
@Component
public class SingleFlight {

	private final ConcurrentMap<Long, CompletableFuture<Object>> inFlight = new ConcurrentHashMap<>();

	private final Counter coalesced;

	SingleFlight(MeterRegistry meters) {
		this.coalesced = Counter.builder("catalog.cache.loads_coalesced")
			.description("Database loads saved because a load of the same product was under way")
			.register(meters);
	}

	/** Runs the load, or waits for the one already running for this id. */
	@SuppressWarnings("unchecked")
	public <T> T load(long id, Supplier<T> loader) {
		CompletableFuture<Object> mine = new CompletableFuture<>();
		CompletableFuture<Object> running = this.inFlight.putIfAbsent(id, mine);
		if (running != null) {
			this.coalesced.increment();
			try {
				return (T) running.join();
			}
			catch (CompletionException ex) {
				throw (ex.getCause() instanceof RuntimeException cause) ? cause : ex;
			}
		}
		try {
			T result = loader.get();
			mine.complete(result);
			return result;
		}
		catch (RuntimeException | Error ex) {
			mine.completeExceptionally(ex);
			throw ex;
		}
		finally {
			this.inFlight.remove(id, mine);
		}
	}

	/**
	 * Lets the next caller start a fresh load: call after a write committed, so that
	 * nobody who arrives later waits for a load that may have read the old row.
	 */
	public void forget(long id) {
		this.inFlight.remove(id);
	}

}
