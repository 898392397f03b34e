package com.example.catalog.product;

import java.time.Duration;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMin;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Settings of the change feed ({@link ProductChangeFeed}), bound from
 * {@code catalog.feed.*}.
 *
 * @param enabled whether the feed follows the database's change table
 * ({@code CHANGE_FEED_ENABLED}); without it only writes made through the service
 * invalidate the cache
 * @param pollInterval how often the change table is read
 * ({@code CHANGE_FEED_POLL_INTERVAL}); on PostgreSQL a notification wakes the feed at
 * once and this is the fallback
 * @param batchSize changes applied together: one list-page invalidation and one cursor
 * update per batch
 * @param maxLag how far behind the feed may fall before it is reported
 * ({@code CHANGE_FEED_MAX_LAG}): a WARN, and a DOWN {@code changeFeed} health component
 * on the management port
 * @param retention how long applied changes are kept ({@code CHANGE_FEED_RETENTION});
 * never less than the longest cache TTL, so that a feed that catches up finds every
 * change whose old version can still be cached
 */
@Validated
@ConfigurationProperties("catalog.feed")
public record ChangeFeedProperties(@DefaultValue("true") boolean enabled,
		@NotNull @DurationMin(millis = 10) @DefaultValue("200ms") Duration pollInterval,
		@Min(1) @Max(10000) @DefaultValue("1000") int batchSize,
		@NotNull @DurationMin(seconds = 1) @DefaultValue("10s") Duration maxLag,
		@NotNull @DurationMin(seconds = 1) @DefaultValue("60s") Duration degradedTtl,
		@NotNull @DurationMin(minutes = 1) @DefaultValue("2h") Duration retention) {

}
