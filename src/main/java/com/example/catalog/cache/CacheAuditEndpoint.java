package com.example.catalog.cache;

import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/cacheaudit} on the management port: a {@code POST} starts a full audit
 * of the cache against the database ({@link FullCacheAudit}), a {@code GET} reports its
 * progress or result, with the sampled audit's counts beside it.
 */
@Component
@Endpoint(id = "cacheaudit")
class CacheAuditEndpoint {

	private final FullCacheAudit full;

	private final CacheAuditor auditor;

	CacheAuditEndpoint(FullCacheAudit full, CacheAuditor auditor) {
		this.full = full;
		this.auditor = auditor;
	}

	@ReadOperation
	public Report report() {
		return new Report(null, this.full.progress(), this.auditor.counts());
	}

	@WriteOperation
	public Report start() {
		boolean started = this.full.start();
		return new Report(started ? "started" : "already running", this.full.progress(), this.auditor.counts());
	}

	/**
	 * What the endpoint answers.
	 *
	 * @param request what the {@code POST} did ({@code started},
	 * {@code already running}); null for a {@code GET}
	 * @param full the full audit's progress, or the last one's result
	 * @param sampled the sampled audit's counts since start-up
	 */
	record Report(String request, FullCacheAudit.Progress full, CacheAuditor.Counts sampled) {

	}

}
