package com.example.catalog.cache;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Reports Redis as the service last saw it, without a round trip of its own. The service stays
 * ready while this is down: readiness does not include it.
 */
@Component("cache")
class CacheHealthIndicator implements HealthIndicator {

	private final RedisGuard guard;

	CacheHealthIndicator(RedisGuard guard) {
		this.guard = guard;
	}

	@Override
	public Health health() {
		Health.Builder health = this.guard.isAvailable() ? Health.up() : Health.down();
		return health.withDetail("circuitBreaker", this.guard.breakerState().name()).build();
	}

}
