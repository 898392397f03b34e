package com.example.catalog.cache;

import java.time.Duration;

import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMax;
import org.hibernate.validator.constraints.time.DurationMin;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Settings of the consistency auditor ({@link CacheAuditor}), bound from
 * {@code catalog.cache.audit.*} (environment variables {@code CACHE_AUDIT_SAMPLE},
 * {@code CACHE_AUDIT_MAX_PER_SECOND}, {@code CACHE_AUDIT_DELAY}).
 *
 * @param sample the fraction of cache hits (Redis, near cache, list pages) checked
 * against the database; 0 turns the sampled audit off
 * @param maxPerSecond the most checks (database reads) the sampled audit makes per
 * second, whatever the sample: beyond it, sampled hits are skipped
 * @param delay the audit delay Δ: how long after a hit it is checked, and how long a
 * newer version must have been committed before a hit that does not show it counts as
 * stale, so that an invalidation in flight is not counted
 */
@Validated
@ConfigurationProperties("catalog.cache.audit")
public record CacheAuditProperties(@DecimalMin("0.0") @DecimalMax("1.0") @DefaultValue("0.01") double sample,
		@Min(1) @DefaultValue("20") int maxPerSecond,
		@NotNull @DurationMin(millis = 100) @DurationMax(seconds = 60) @DefaultValue("1s") Duration delay) {

}
