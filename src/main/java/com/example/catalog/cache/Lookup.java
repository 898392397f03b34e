package com.example.catalog.cache;

import java.util.List;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The answer of a product lookup: the outcome, the version Redis holds and the cached
 * JSON on a hit.
 *
 * @param outcome what Redis said
 * @param version the version of the entry or marker found (a deletion marker's is
 * {@code Long.MAX_VALUE}), or {@link #NO_VERSION}
 * @param json the product's JSON, on a hit only
 */
public record Lookup(Outcome outcome, long version, byte[] json) {

	/** The version of a lookup that found no entry, or no readable version. */
	public static final long NO_VERSION = -1;

	static final Lookup MISSED = new Lookup(Outcome.MISS, NO_VERSION, null);

	static final Lookup BYPASSED = new Lookup(Outcome.BYPASS, NO_VERSION, null);

	/**
	 * What lookup.lua answered: {@code state}, {@code version}, {@code json} (null where
	 * there is none), or nothing.
	 */
	static Lookup fromScript(List<?> fields) {
		if (fields.isEmpty()) {
			return MISSED;
		}
		String state = ProductKeys.text((byte[]) fields.get(0));
		long version = ProductKeys.version((byte[]) fields.get(1));
		if ("value".equals(state) && fields.get(2) != null) {
			return new Lookup(Outcome.HIT, version, (byte[]) fields.get(2));
		}
		if ("absent".equals(state) || "deleted".equals(state)) {
			return new Lookup(Outcome.ABSENT, version, null);
		}
		if ("stale".equals(state)) {
			return new Lookup(Outcome.MISS, version, null);
		}
		// Nothing, or a provisional marker: its version may never be committed.
		return MISSED;
	}

	/**
	 * The {@code catalog.cache.lookups} counter of one outcome ({@code hit},
	 * {@code near_hit}, {@code gutter_hit}...): single and batch reads count in the same
	 * counters.
	 */
	static Counter counter(MeterRegistry meters, String outcome) {
		return Counter.builder("catalog.cache.lookups")
			.description("Product cache lookups by outcome")
			.tag("outcome", outcome)
			.register(meters);
	}

	/** What Redis said about a product (or a list page). */
	public enum Outcome {

		/** The product's JSON was cached. */
		HIT,
		/** Redis remembers that no product has this id. */
		ABSENT,
		/** Nothing usable was cached: read the database and fill the cache. */
		MISS,
		/** Redis could not be used: read the database and do not cache. */
		BYPASS,
		/**
		 * Redis could not be used; this instance read the product from the database
		 * moments ago and serves that copy (see {@link Gutter}).
		 */
		GUTTER

	}

}
