package com.example.catalog.cache;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Link;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.Tracer;

import org.springframework.stereotype.Component;

/**
 * The steps of cache-aside as Micrometer observations, so that a trace reads as the
 * request's story: {@code cache.lookup} (with {@code cache.outcome}), the
 * {@code database.query} of a miss, {@code cache.fill}, {@code cache.invalidate} after a
 * write, and {@code cache.invalidate.deferred} when an invalidation Redis could not take
 * is finally applied, linked to the write that deferred it. Only a request whose trace is
 * sampled gets them: an observation costs a Redis hit a sizeable share of its time, and a
 * span nobody exports tells nobody anything. They are spans only, not timers (the
 * {@code catalog.cache.lookups} counters count every lookup; a timer of the sampled ones
 * would mislead).
 */
@Component
public class CacheObservations {

	static final String OUTCOME = "cache.outcome";

	private static final String LOOKUP = "catalog.cache.lookup";

	private static final String INVALIDATION = "cache.invalidation";

	private final ObservationRegistry registry;

	private final Tracer tracer;

	/**
	 * The span of the write that deferred each kept invalidation: the retry thread links
	 * to it, from a trace of its own.
	 */
	private final Map<Long, TraceContext> deferredBy = new ConcurrentHashMap<>();

	CacheObservations(ObservationRegistry registry, Tracer tracer) {
		this.registry = registry;
		this.tracer = tracer;
	}

	/** A lookup, tagged with its outcome (unless {@link #nearHit} named it already). */
	Lookup lookup(long id, Supplier<Lookup> lookup) {
		if (!sampled()) {
			return lookup.get();
		}
		Observation observation = Observation.createNotStarted(LOOKUP, this.registry)
			.contextualName("cache.lookup")
			.highCardinalityKeyValue("product.id", Long.toString(id))
			.start();
		try (Observation.Scope scope = observation.openScope()) {
			Lookup found = lookup.get();
			if (observation.getContext().getLowCardinalityKeyValue(OUTCOME) == null) {
				observation.lowCardinalityKeyValue(OUTCOME, outcome(found.outcome()));
			}
			return found;
		}
		catch (RuntimeException | Error ex) {
			observation.error(ex);
			throw ex;
		}
		finally {
			observation.stop();
		}
	}

	/** Marks the lookup under way as answered by this instance's near cache. */
	void nearHit() {
		Observation current = this.registry.getCurrentObservation();
		if (current != null && LOOKUP.equals(current.getContext().getName())) {
			current.lowCardinalityKeyValue(OUTCOME, "near_hit");
		}
	}

	/** The database read of a product that the cache did not have. */
	public <T> T query(long id, Supplier<T> query) {
		if (!sampled()) {
			return query.get();
		}
		return Observation.createNotStarted("catalog.database.query", this.registry)
			.contextualName("database.query")
			.highCardinalityKeyValue("product.id", Long.toString(id))
			.observe(query);
	}

	/** Storing a product (or its absence) read from the database. */
	void fill(long id, Runnable fill) {
		if (!sampled()) {
			fill.run();
			return;
		}
		Observation.createNotStarted("catalog.cache.fill", this.registry)
			.contextualName("cache.fill")
			.highCardinalityKeyValue("product.id", Long.toString(id))
			.observe(fill);
	}

	/**
	 * The invalidation after a write committed; tagged
	 * {@code cache.invalidation=deferred} by {@link #deferred} when Redis did not take
	 * it.
	 */
	void invalidation(long id, Runnable invalidation) {
		if (!sampled()) {
			invalidation.run();
			return;
		}
		Observation.createNotStarted("catalog.cache.invalidation", this.registry)
			.contextualName("cache.invalidate")
			.highCardinalityKeyValue("product.id", Long.toString(id))
			.lowCardinalityKeyValue(INVALIDATION, "applied")
			.observe(invalidation);
	}

	/**
	 * Remembers the span under way (the write's) as the cause of the product's kept
	 * invalidation.
	 */
	void deferred(long id) {
		Observation current = this.registry.getCurrentObservation();
		if (current != null && "catalog.cache.invalidation".equals(current.getContext().getName())) {
			current.lowCardinalityKeyValue(INVALIDATION, "deferred");
		}
		Span span = this.tracer.currentSpan();
		if (span != null && !span.isNoop()) {
			this.deferredBy.put(id, span.context());
		}
	}

	/**
	 * An attempt to apply a kept invalidation. Only one that succeeds becomes a span (the
	 * retries of an outage would otherwise add one every 250 ms), in a trace of its own
	 * with a span link to the write that deferred it, and that write's trace id in
	 * {@code cache.deferred_by.trace_id} for viewers that do not show links.
	 */
	boolean applyDeferred(long id, BooleanSupplier apply) {
		TraceContext cause = this.deferredBy.get(id);
		Span.Builder builder = this.tracer.spanBuilder()
			.setNoParent()
			.name("cache.invalidate.deferred")
			.tag("product.id", id);
		if (cause != null) {
			builder = builder.addLink(new Link(cause)).tag("cache.deferred_by.trace_id", cause.traceId());
		}
		Span span = builder.start();
		try (Tracer.SpanInScope scope = this.tracer.withSpan(span)) {
			boolean applied = apply.getAsBoolean();
			if (applied) {
				this.deferredBy.remove(id, cause);
				span.end();
			}
			else {
				span.abandon();
			}
			return applied;
		}
		catch (RuntimeException | Error ex) {
			span.error(ex);
			span.end();
			throw ex;
		}
	}

	/** Whether the request under way is in a sampled trace, whose spans are exported. */
	private boolean sampled() {
		Span current = this.tracer.currentSpan();
		return current != null && Boolean.TRUE.equals(current.context().sampled());
	}

	private static String outcome(Lookup.Outcome outcome) {
		return switch (outcome) {
			case HIT -> "hit";
			case ABSENT -> "negative_hit";
			case MISS -> "miss";
			case BYPASS -> "bypass";
			case GUTTER -> "gutter_hit";
		};
	}

}
