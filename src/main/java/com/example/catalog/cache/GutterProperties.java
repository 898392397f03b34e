package com.example.catalog.cache;

import java.time.Duration;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMax;
import org.hibernate.validator.constraints.time.DurationMin;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Settings of the gutter, the short-lived in-process copy of products read from the
 * database while Redis is unavailable, bound from {@code catalog.cache.gutter.*}
 * (environment variables {@code CACHE_GUTTER_ENABLED}, {@code CACHE_GUTTER_TTL},
 * {@code CACHE_GUTTER_MAX_ENTRIES}).
 *
 * @param enabled whether an instance serves, while Redis is unavailable, the products it
 * read from the database moments ago; on by default
 * @param ttl how long such a copy is served: the bound on serving a change made by
 * another instance or outside the service while Redis is away
 * @param maxEntries how many products one instance keeps at most
 */
@Validated
@ConfigurationProperties("catalog.cache.gutter")
public record GutterProperties(@DefaultValue("true") boolean enabled,
		@NotNull @DurationMin(millis = 100) @DurationMax(seconds = 60) @DefaultValue("2s") Duration ttl,
		@Min(1) @DefaultValue("10000") long maxEntries) {

}
