package com.example.catalog.cache;

import java.time.Duration;

import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMax;
import org.hibernate.validator.constraints.time.DurationMin;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Settings of the fill lease, bound from {@code catalog.cache.lease.*} (environment
 * variable {@code CACHE_FILL_LEASE}).
 *
 * @param duration how long a caller that missed may fill an entry while the callers of
 * every other instance wait for it: about twice a fill's p99, since a holder that dies
 * makes them wait this long; {@code 0} turns the lease off
 */
@Validated
@ConfigurationProperties("catalog.cache.lease")
public record FillLeaseProperties(
		@NotNull @DurationMin(millis = 0) @DurationMax(seconds = 10) @DefaultValue("300ms") Duration duration) {

	/** Whether callers of several instances take turns to fill a missed entry. */
	public boolean enabled() {
		return !this.duration.isZero();
	}

}
