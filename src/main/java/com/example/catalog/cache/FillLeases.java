package com.example.catalog.cache;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.data.redis.core.RedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.stereotype.Component;

import static com.example.catalog.cache.ProductKeys.bytes;
import static com.example.catalog.cache.ProductKeys.number;

/**
 * The fill lease across instances: of the callers that missed a product, on every
 * instance, one reads the database and fills the entry while the others look at the entry
 * again after short pauses instead of reading the database too (Facebook's memcache
 * leases; identity_cache's fill lock). The lease is taken by the lookup script on a miss
 * (see lookup.lua), lives in the entry's hash, and ends with the holder's fill, a write's
 * marker, the holder's failure (waiters then read the database at once), or its expiry (a
 * holder that died). Per instance only the single-flight leader takes part; while Redis
 * does not answer there is no lease.
 */
@Component
public class FillLeases {

	private static final RedisScript<List> LOOKUP = ProductKeys.script("lookup", List.class);

	private static final RedisScript<Long> FAILED = ProductKeys.script("lease-failed", Long.class);

	/** The first pause before a waiter looks again; each next one is twice as long. */
	private static final long FIRST_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

	/** The longest pause: a fill that lands is seen this late at most. */
	private static final long LONGEST_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

	private final boolean enabled;

	private final long leaseMillis;

	/**
	 * How long a waiter waits at most before it reads the database itself: twice the
	 * lease, since a lease that runs out is taken over by the next waiter that looks.
	 */
	private final long patienceNanos;

	private final long longestPauseNanos;

	private final int maxLooks;

	private final RedisTemplate<String, byte[]> redis;

	private final RedisGuard guard;

	private final ProductKeys keys;

	private final ProductInvalidations invalidations;

	private final ProductCache cache;

	private final Counter databaseReadsAfterMiss;

	private final Counter databaseReadsAfterBypass;

	private final Counter granted;

	private final Counter waitedHit;

	private final Counter expired;

	private final Counter failed;

	private final Counter gaveUp;

	private final DistributionSummary looks;

	private final AtomicInteger waiting = new AtomicInteger();

	FillLeases(FillLeaseProperties properties, RedisTemplate<String, byte[]> productCacheTemplate, RedisGuard guard,
			ProductKeys keys, ProductInvalidations invalidations, ProductCache cache, MeterRegistry meters) {
		this.enabled = properties.enabled();
		this.leaseMillis = Math.max(1, properties.duration().toMillis());
		this.patienceNanos = 2 * properties.duration().toNanos();
		this.longestPauseNanos = Math.max(FIRST_PAUSE_NANOS,
				Math.min(LONGEST_PAUSE_NANOS, properties.duration().toNanos() / 4));
		this.maxLooks = looksWithin(this.patienceNanos, this.longestPauseNanos);
		this.redis = productCacheTemplate;
		this.guard = guard;
		this.keys = keys;
		this.invalidations = invalidations;
		this.cache = cache;
		this.databaseReadsAfterMiss = databaseReads(meters, "miss");
		this.databaseReadsAfterBypass = databaseReads(meters, "bypass");
		this.granted = leases(meters, "granted");
		this.waitedHit = leases(meters, "waited_hit");
		this.expired = leases(meters, "expired");
		this.failed = leases(meters, "failed");
		this.gaveUp = leases(meters, "gave_up");
		this.looks = DistributionSummary.builder("catalog.cache.fill_lease.looks")
			.description("Lookups a caller that waited for another's fill made, its first one included")
			.register(meters);
		meters.gauge("catalog.cache.fill_lease.waiting", this.waiting);
	}

	/**
	 * Looks at the entry again for a caller that missed, and claims the fill: the lease,
	 * or, while another caller holds it, waits for its fill. The answer is a hit or a 404
	 * when one was filled meanwhile; otherwise the caller reads the database, holding the
	 * lease or not (the lease is off, Redis did not answer, the holder failed, or it took
	 * too long).
	 */
	public Claim claim(long id) {
		if (!this.enabled) {
			return new Claim(id, this.cache.lookupAgain(id), null);
		}
		if (this.invalidations.isPending(id)) {
			return new Claim(id, Lookup.BYPASSED, null);
		}
		byte[] token = bytes(Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE));
		long deadline = System.nanoTime() + this.patienceNanos;
		long pause = FIRST_PAUSE_NANOS;
		for (int look = 1;; look++) {
			Optional<List> answer = look(id, token);
			if (answer.isEmpty()) {
				return new Claim(id, Lookup.BYPASSED, null);
			}
			List<?> fields = answer.get();
			String lease = (fields.size() > 3) ? ProductKeys.text((byte[]) fields.get(3)) : null;
			if ("leased".equals(lease) && System.nanoTime() + pause <= deadline && pause(pause)) {
				pause = Math.min(2 * pause, this.longestPauseNanos);
				continue;
			}
			if (look > 1) {
				this.looks.record(look);
			}
			Lookup lookup = Lookup.fromScript(fields);
			if ("granted".equals(lease)) {
				((look == 1) ? this.granted : this.expired).increment();
				return new Claim(id, lookup, token);
			}
			if ("failed".equals(lease)) {
				this.failed.increment();
			}
			else if ("leased".equals(lease)) {
				this.gaveUp.increment();
			}
			else if (look > 1) {
				this.waitedHit.increment();
			}
			return new Claim(id, lookup, null);
		}
	}

	/**
	 * Reads the database for a caller that claimed the fill, and counts the read. If the
	 * read fails, the caller's lease is marked failed, so that the callers waiting for
	 * its fill read the database at once.
	 */
	public <T> T readDatabase(Claim claim, Supplier<T> read) {
		// Apart: a read because Redis did not answer is not one the lease could spare.
		((claim.lookup().outcome() == Lookup.Outcome.BYPASS) ? this.databaseReadsAfterBypass
				: this.databaseReadsAfterMiss)
			.increment();
		try {
			return read.get();
		}
		catch (RuntimeException | Error failure) {
			if (claim.token() != null) {
				this.guard.call(() -> this.redis.execute(FAILED, List.of(this.keys.key(claim.id())), claim.token()));
			}
			throw failure;
		}
	}

	/** The most lookups one waiter makes: the bound on its Redis commands. */
	int maxLooks() {
		return this.maxLooks;
	}

	private Optional<List> look(long id, byte[] token) {
		return this.guard
			.call(() -> this.redis.execute(LOOKUP, List.of(this.keys.key(id)), number(this.keys.longestTtlMillis()),
					number(this.keys.entryTtlBoundMillis()), number(this.leaseMillis), token));
	}

	/** Waits before the next look; false if interrupted (the caller then reads). */
	private boolean pause(long nanos) {
		this.waiting.incrementAndGet();
		try {
			TimeUnit.NANOSECONDS.sleep(nanos);
			return true;
		}
		catch (InterruptedException shuttingDown) {
			Thread.currentThread().interrupt();
			return false;
		}
		finally {
			this.waiting.decrementAndGet();
		}
	}

	private static int looksWithin(long patienceNanos, long longestPauseNanos) {
		int looks = 1;
		long waited = 0;
		for (long pause = FIRST_PAUSE_NANOS; waited + pause <= patienceNanos; pause = Math.min(2 * pause,
				longestPauseNanos)) {
			waited += pause;
			looks++;
		}
		return looks;
	}

	private static Counter databaseReads(MeterRegistry meters, String after) {
		return Counter.builder("catalog.cache.database_reads")
			.description("Database reads of products made by the cache path, after a miss or a bypass")
			.tag("after", after)
			.register(meters);
	}

	private static Counter leases(MeterRegistry meters, String outcome) {
		return Counter.builder("catalog.cache.fill_leases")
			.description("Fill leases claimed by callers that missed, by outcome")
			.tag("outcome", outcome)
			.register(meters);
	}

	/**
	 * What a caller that missed found when it claimed the fill.
	 *
	 * @param id the product
	 * @param lookup the entry as the claim last saw it: a hit or a 404 if one was filled
	 * meanwhile
	 * @param token the lease's token when this caller holds it, else null
	 */
	public record Claim(long id, Lookup lookup, byte[] token) {

		/** A read of the database without any lease: Redis was not used. */
		public static Claim unleased(long id) {
			return new Claim(id, Lookup.BYPASSED, null);
		}

	}

}
