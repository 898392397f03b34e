package com.example.catalog.web;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;

import com.example.catalog.product.NotFoundBudget;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.stereotype.Component;
import org.springframework.web.ErrorResponseException;

/**
 * Per client address budgets of the cheap-to-send, costly-to-answer requests: wrong API
 * keys (guessing) and reads of ids that do not exist (each one a database read, Redis
 * calls and a log line). A client that has spent its budget gets 429 with Retry-After
 * until the period ends. Each budget is a Resilience4j rate limiter; the addresses seen
 * last are kept, at most {@value #MAX_CLIENTS}, so that a flood from many addresses
 * cannot grow memory.
 */
@Component
class ClientLimits implements NotFoundBudget {

	private static final int MAX_CLIENTS = 10_000;

	private final Budgets failedKeys;

	private final Budgets notFound;

	ClientLimits(ApiProperties api) {
		this.failedKeys = new Budgets("failed-keys", api.failedKeysPerMinute(), Duration.ofMinutes(1));
		this.notFound = new Budgets("not-found", api.notFoundPerSecond(), Duration.ofSeconds(1));
	}

	/** Throws 429 when this client has sent too many wrong keys lately. */
	void refuseKeyGuessing(String client) {
		this.failedKeys.refuseWhenSpent(client, "Too many wrong API keys from this address; retry later");
	}

	void keyFailed(String client) {
		this.failedKeys.spend(client);
	}

	/** Throws 429 when this client has asked for too many missing products lately. */
	void refuseMissingIdFlood(String client) {
		this.notFound.refuseWhenSpent(client, "Too many requests for products that do not exist; retry later");
	}

	void notFound(String client) {
		this.notFound.spend(client);
	}

	/** The ids a batch read did not find, each like a 404. */
	@Override
	public void spend(String client, int notFound) {
		for (int i = 0; i < notFound; i++) {
			this.notFound.spend(client);
		}
	}

	/** One budget per client address; a limit of 0 turns it off. */
	private static final class Budgets {

		private final RateLimiterConfig config;

		private final boolean enabled;

		private final String name;

		private final Map<String, AtomicRateLimiter> clients = Collections
			.synchronizedMap(new LinkedHashMap<>(256, 0.75f, true) {
				@Override
				protected boolean removeEldestEntry(Map.Entry<String, AtomicRateLimiter> eldest) {
					return size() > MAX_CLIENTS;
				}
			});

		Budgets(String name, int limit, Duration period) {
			this.name = name;
			this.enabled = limit > 0;
			this.config = RateLimiterConfig.custom()
				.limitForPeriod(Math.max(limit, 1))
				.limitRefreshPeriod(period)
				.timeoutDuration(Duration.ZERO)
				.build();
		}

		void spend(String client) {
			if (this.enabled) {
				limiter(client).acquirePermission();
			}
		}

		void refuseWhenSpent(String client, String detail) {
			if (!this.enabled) {
				return;
			}
			// Only clients that have spent something have a limiter: checking creates
			// none.
			AtomicRateLimiter limiter = this.clients.get(client);
			if (limiter == null || limiter.getMetrics().getAvailablePermissions() > 0) {
				return;
			}
			long seconds = Math.max(1,
					TimeUnit.NANOSECONDS.toSeconds(limiter.getDetailedMetrics().getNanosToWait() + 999_999_999L));
			ErrorResponseException refusal = new ErrorResponseException(HttpStatus.TOO_MANY_REQUESTS,
					ProblemDetail.forStatusAndDetail(HttpStatus.TOO_MANY_REQUESTS, detail), null);
			refusal.getHeaders().set(HttpHeaders.RETRY_AFTER, Long.toString(seconds));
			throw refusal;
		}

		private AtomicRateLimiter limiter(String client) {
			return this.clients.computeIfAbsent(client,
					(address) -> new AtomicRateLimiter(this.name + ":" + address, this.config));
		}

	}

}
