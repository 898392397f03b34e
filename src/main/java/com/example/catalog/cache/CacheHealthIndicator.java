package com.example.catalog.cache;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Reports whether Redis is usable. The service stays ready while it is not: readiness
 * does not include this indicator.
 */
@Component("cache")
class CacheHealthIndicator implements HealthIndicator {

	private final RedisGuard guard;

	CacheHealthIndicator(RedisGuard guard) {
		this.guard = guard;
	}

	@Override
	public Health health() {
		Health.Builder health = this.guard.ping() ? Health.up() : Health.down();
		return health.withDetail("circuitBreaker", this.guard.breakerState().name()).build();
	}

}
