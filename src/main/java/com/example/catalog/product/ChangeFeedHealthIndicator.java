package com.example.catalog.product;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Reports how far behind the change feed is: down once it is further behind than
 * {@code CHANGE_FEED_MAX_LAG}. Readiness does not include it: the service still answers,
 * only changes made outside it wait.
 */
@Component("changeFeed")
class ChangeFeedHealthIndicator implements HealthIndicator {

	private final ProductChangeFeed feed;

	private final ChangeFeedProperties properties;

	ChangeFeedHealthIndicator(ProductChangeFeed feed, ChangeFeedProperties properties) {
		this.feed = feed;
		this.properties = properties;
	}

	@Override
	public Health health() {
		if (!this.properties.enabled()) {
			return Health.unknown().withDetail("enabled", false).build();
		}
		Health.Builder health = this.feed.isBehind() ? Health.down() : Health.up();
		return health.withDetail("lagMillis", this.feed.lag())
			.withDetail("maxLag", this.properties.maxLag().toString())
			.build();
	}

}
