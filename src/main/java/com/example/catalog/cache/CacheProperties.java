package com.example.catalog.cache;

import java.time.Duration;

import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMin;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Settings of the product cache, bound from {@code catalog.cache.*} (environment
 * variables {@code CACHE_TTL_SECONDS}, {@code CACHE_NEGATIVE_TTL_SECONDS},
 * {@code CACHE_TTL_JITTER}). Invalid values stop start-up with a message naming the
 * property.
 *
 * @param ttl how long a product stays cached; invalidation and deletion markers live as
 * long
 * @param negativeTtl how long "no product with this id" is remembered
 * @param ttlJitter fraction by which each TTL is randomly shortened or lengthened, so
 * entries loaded together do not expire together
 * @param keyPrefix prefix of every key, {@code product:} gives {@code product:42}
 * @param breakerOpenDuration how long Redis is skipped after the circuit breaker opens
 */
@Validated
@ConfigurationProperties("catalog.cache")
public record CacheProperties(@NotNull @DurationMin(seconds = 1) @DefaultValue("3600s") Duration ttl,
		@NotNull @DurationMin(seconds = 1) @DefaultValue("30s") Duration negativeTtl,
		@DecimalMin("0.0") @DecimalMax("0.5") @DefaultValue("0.1") double ttlJitter,
		@NotBlank @DefaultValue("product:") String keyPrefix,
		@NotNull @DurationMin(millis = 100) @DefaultValue("2s") Duration breakerOpenDuration) {

}
