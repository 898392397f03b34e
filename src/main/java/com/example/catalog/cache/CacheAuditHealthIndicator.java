package com.example.catalog.cache;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * The consistency auditor's counts on {@code /actuator/health}. Always UP: a stale entry
 * is repaired as soon as it is found, and is for the metrics and their alert
 * ({@code catalog_cache_audit_total{result="stale"}}), not for taking the instance out of
 * service; readiness does not include this indicator either.
 */
@Component("cacheAudit")
class CacheAuditHealthIndicator implements HealthIndicator {

	private final CacheAuditor auditor;

	private final FullCacheAudit full;

	CacheAuditHealthIndicator(CacheAuditor auditor, FullCacheAudit full) {
		this.auditor = auditor;
		this.full = full;
	}

	@Override
	public Health health() {
		CacheAuditor.Counts sampled = this.auditor.counts();
		Health.Builder health = Health.up()
			.withDetail("sample", sampled.sample())
			.withDetail("consistent", sampled.consistent())
			.withDetail("stale", sampled.stale())
			.withDetail("skippedForBudget", sampled.skippedForBudget())
			.withDetail("skippedUnavailable", sampled.skippedUnavailable())
			.withDetail("fullAudit", this.full.progress());
		if (sampled.lastStale() != null) {
			health.withDetail("lastStale", sampled.lastStale());
		}
		return health.build();
	}

}
