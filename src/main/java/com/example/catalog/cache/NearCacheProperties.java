package com.example.catalog.cache;

import java.time.Duration;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMin;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Settings of the near cache, the in-process copy of Redis's product hits, bound from
 * {@code catalog.cache.near.*} (environment variables {@code CACHE_NEAR_ENABLED},
 * {@code CACHE_NEAR_MAX_ENTRIES}, {@code CACHE_NEAR_TTL_SECONDS}).
 *
 * @param enabled whether each instance keeps products it read from Redis in memory:
 * {@code auto} (the default) where Redis can tell it about every change, {@code true}
 * with a warning where it cannot, {@code false} never
 * @param maxEntries how many products one instance keeps at most
 * @param ttl the longest a product stays in memory, whatever Redis says: the bound on a
 * copy that an invalidation could not reach
 */
@Validated
@ConfigurationProperties("catalog.cache.near")
public record NearCacheProperties(@NotNull @DefaultValue("auto") Mode enabled,
		@Min(1) @DefaultValue("10000") long maxEntries,
		@NotNull @DurationMin(seconds = 1) @DefaultValue("60s") Duration ttl) {

	/**
	 * The three settings; Spring Boot binds {@code true} and {@code false} to {@code ON}
	 * and {@code OFF}.
	 */
	public enum Mode {

		/**
		 * On where Redis supports tracking on the same connection (a standalone or
		 * Sentinel Redis answering in RESP3 whose user may run {@code CLIENT TRACKING});
		 * off elsewhere, said once at INFO.
		 */
		AUTO,

		/** On; where Redis cannot support it, off with a warning. */
		ON,

		/** Off. */
		OFF

	}

}
