package com.example.catalog.product;

import java.time.Duration;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMax;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Settings of the bound on database reads made while Redis is unavailable, bound from
 * {@code catalog.fallback.*} (environment variables
 * {@code FALLBACK_MAX_CONCURRENT_READS}, {@code FALLBACK_MAX_WAIT}).
 *
 * @param maxConcurrentReads how many such reads may run at once; 0 (the default) means as
 * many as the database's read pool holds connections, so that none waits for one
 * @param maxWait how long a read beyond the bound waits for a place before its 503; a few
 * milliseconds smooth a burst, more would only move the queue from the pool to here
 */
@Validated
@ConfigurationProperties("catalog.fallback")
public record FallbackProperties(@Min(0) @DefaultValue("0") int maxConcurrentReads,
		@NotNull @DurationMax(seconds = 1) @DefaultValue("5ms") Duration maxWait) {

}
