package com.example.catalog.cache;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.context.SmartLifecycle;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.RedisTemplate;
import org.springframework.stereotype.Component;

import static com.example.catalog.cache.ProductKeys.DELETED;
import static com.example.catalog.cache.ProductKeys.bytes;
import static com.example.catalog.cache.ProductKeys.digits;

/**
 * The standing consistency auditor: a sample of the cache's hits (Redis, near cache, and
 * list pages by the versions they hold) is checked against the database after the audit
 * delay Δ, counted in {@code catalog.cache.audit{audit="sampled",result=...}}, and a
 * stale entry is logged at WARN and repaired at once through
 * {@link ProductInvalidations}. Not to be confused with the TTL check of
 * {@link ProductCache}, which looks at a hit's TTL, never at the database.
 * <p>
 * <b>Stale</b>, as issue #21 defines it: the cache served version v of a product more
 * than Δ after the database had committed a version greater than v. A check cannot know
 * when a version was committed (the database's {@code updated_at} is set by this
 * service's writes only, and comes from another clock), so it proves it instead, in two
 * steps:
 * <ol>
 * <li>Δ after the hit, one database query reads the current versions d of what the hit
 * served (absent = deleted). Where every d ≤ v the hit was consistent.</li>
 * <li>Otherwise d was committed before that query returned. Δ after it returned, the
 * auditor looks at what the cache serves now (the near cache, then Redis; nothing while
 * an invalidation of the product is kept, as a read would): if that is still a version
 * older than d, the cache is serving a version more than Δ after a newer one was
 * committed, which is stale by the definition, and is repaired. If the cache has moved on
 * (a marker, a newer value, the page gone), the difference was an invalidation in flight:
 * consistent.</li>
 * </ol>
 * So a write that commits between a hit and its check is never counted, however late in
 * the window it commits: it is counted only if its invalidation has still not landed Δ
 * after the commit was visible. A check that cannot look at Redis or the database when it
 * needs to is not counted either way ({@code catalog.cache.audit.skipped}).
 * <p>
 * Audit reads have an absolute budget, {@code CACHE_AUDIT_MAX_PER_SECOND} database
 * queries a second (a Resilience4j rate limiter, asked without waiting): sampled hits
 * beyond it are skipped, so the audit never becomes a load of its own. When the sample is
 * 0 a hit costs one read of a final field; otherwise one random draw.
 */
@Component
public class CacheAuditor implements SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(CacheAuditor.class);

	/** The fields a re-read of an entry needs. */
	private static final byte[][] STATE_AND_VERSION = { bytes("state"), bytes("version") };

	private static final byte[] VALUE = bytes("value");

	/** How often the checker looks for checks that are due. */
	private static final long TICK_MILLIS = 50;

	/** What the cache serves of a product: nothing (a marker, a miss, a bypass). */
	static final long NOT_SERVED = Lookup.NO_VERSION;

	private final boolean enabled;

	private final double sample;

	private final long delayNanos;

	private final Duration delay;

	/** Most samples waiting at once: a slow database must not make them pile up. */
	private final int maxWaiting;

	private final RateLimiter budget;

	private final ProductVersions database;

	private final ProductInvalidations invalidations;

	private final NearCache near;

	private final RedisTemplate<String, byte[]> redis;

	private final RedisGuard guard;

	private final ProductKeys keys;

	private final JsonMapper json;

	/** Sampled hits waiting for Δ to pass, in the order they were served. */
	private final ConcurrentLinkedQueue<Sample> waiting = new ConcurrentLinkedQueue<>();

	/** Hits the database disagreed with, waiting for Δ to look at the cache again. */
	private final ConcurrentLinkedQueue<Suspect> suspects = new ConcurrentLinkedQueue<>();

	private final AtomicInteger waitingCount = new AtomicInteger();

	/** Sampled hits taken and not yet judged. */
	private final AtomicInteger underWay = new AtomicInteger();

	private final ScheduledExecutorService checker = Executors.newSingleThreadScheduledExecutor((task) -> {
		Thread thread = new Thread(task, "cache-audit");
		thread.setDaemon(true);
		return thread;
	});

	private final AtomicBoolean scheduled = new AtomicBoolean();

	/** Whether the checker may call Redis: between the lifecycle's start and stop. */
	private volatile boolean running;

	private final Counter consistent;

	private final Counter stale;

	private final Counter skippedForBudget;

	private final Counter skippedUnavailable;

	private volatile StaleEntry lastStale;

	CacheAuditor(CacheAuditProperties properties, ProductVersions database, ProductInvalidations invalidations,
			NearCache near, RedisTemplate<String, byte[]> productCacheTemplate, RedisGuard guard, ProductKeys keys,
			JsonMapper json, MeterRegistry meters) {
		this.enabled = properties.sample() > 0;
		this.sample = properties.sample();
		this.delay = properties.delay();
		this.delayNanos = properties.delay().toNanos();
		this.maxWaiting = (int) Math.min(100_000,
				(long) properties.maxPerSecond() * (properties.delay().toSeconds() + 10));
		this.budget = RateLimiter.of("cache-audit",
				RateLimiterConfig.custom()
					.limitForPeriod(properties.maxPerSecond())
					.limitRefreshPeriod(Duration.ofSeconds(1))
					.timeoutDuration(Duration.ZERO)
					.build());
		this.database = database;
		this.invalidations = invalidations;
		this.near = near;
		this.redis = productCacheTemplate;
		this.guard = guard;
		this.keys = keys;
		this.json = json;
		this.consistent = checks(meters, "sampled", "consistent");
		this.stale = checks(meters, "sampled", "stale");
		this.skippedForBudget = skipped(meters, "budget");
		this.skippedUnavailable = skipped(meters, "unavailable");
	}

	@Override
	public void start() {
		this.running = true;
		if (this.enabled && this.scheduled.compareAndSet(false, true)) {
			this.checker.scheduleWithFixedDelay(this::checkDue, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
		}
	}

	/** Checks wait, queued, until a start: a stopped context's Redis is stopped too. */
	@Override
	public void stop() {
		this.running = false;
		RedisGuard.awaitCurrentTask(this.checker);
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public int getPhase() {
		return RedisGuard.BACKGROUND_PHASE;
	}

	/**
	 * A product served from the cache (Redis or the near cache): audits it, if it is
	 * sampled and the budget allows.
	 */
	void hit(long id, long version) {
		if (this.enabled && (this.sample >= 1 || ThreadLocalRandom.current().nextDouble() < this.sample)) {
			enqueue(new Sample(Map.of(id, version), null, System.nanoTime(), null));
		}
	}

	/** Whether this list-page hit is to be audited: one random draw. */
	boolean samplesPage() {
		return this.enabled && (this.sample >= 1 || ThreadLocalRandom.current().nextDouble() < this.sample);
	}

	/**
	 * A sampled list page served from the cache: audits the versions of the products it
	 * holds (read from it on the auditor's thread, not the request's).
	 * @param body the page as served
	 * @param page what the page cache serves for the same request now (null for nothing),
	 * and how to make every cached page unreachable
	 */
	void page(byte[] body, ServedPage page) {
		enqueue(new Sample(null, body, System.nanoTime(), page));
	}

	private void enqueue(Sample sample) {
		if (this.waitingCount.get() >= this.maxWaiting || !this.budget.acquirePermission()) {
			this.skippedForBudget.increment();
			return;
		}
		this.waitingCount.incrementAndGet();
		this.underWay.incrementAndGet();
		this.waiting.add(sample);
	}

	/** On the checker thread: the checks whose Δ has passed, in batches. */
	private void checkDue() {
		if (!this.running) {
			return;
		}
		try {
			while (checkDueSamples()) {
				// another full batch was due
			}
			checkDueSuspects();
		}
		catch (RuntimeException unexpected) {
			logger.warn("Cache audit check failed", unexpected);
		}
	}

	/** Step 1: one database query for the due samples; true if more may be due. */
	private boolean checkDueSamples() {
		long now = System.nanoTime();
		List<Sample> due = new ArrayList<>();
		Map<Long, Boolean> ids = new LinkedHashMap<>();
		Sample head;
		while ((head = this.waiting.peek()) != null && now - head.servedNanos() >= this.delayNanos
				&& (ids.isEmpty() || ids.size() + versions(head).size() <= ProductVersions.MAX_BATCH)) {
			this.waiting.poll();
			this.waitingCount.decrementAndGet();
			if (versions(head).isEmpty()) {
				// A page without products: nothing to check.
				this.underWay.decrementAndGet();
				continue;
			}
			due.add(head);
			head.versions().keySet().forEach((id) -> ids.put(id, Boolean.TRUE));
		}
		if (due.isEmpty()) {
			return false;
		}
		Optional<Map<Long, Long>> current = currentVersions(ids.keySet().stream().toList());
		if (current.isEmpty()) {
			due.forEach((sample) -> judged(this.skippedUnavailable));
			return true;
		}
		// Every version read was committed before now.
		long readNanos = System.nanoTime();
		for (Sample sample : due) {
			Map<Long, Long> newer = new HashMap<>();
			sample.versions().forEach((id, served) -> {
				long committed = current.get().getOrDefault(id, DELETED);
				if (committed > served) {
					newer.put(id, committed);
				}
			});
			if (newer.isEmpty()) {
				judged(this.consistent);
			}
			else {
				this.suspects.add(new Suspect(sample, newer, readNanos));
			}
		}
		return head != null && now - head.servedNanos() >= this.delayNanos;
	}

	/**
	 * Step 2: Δ after the database showed a newer version, whether the cache still serves
	 * an older one.
	 */
	private void checkDueSuspects() {
		Suspect suspect;
		while ((suspect = this.suspects.peek()) != null && System.nanoTime() - suspect.readNanos() >= this.delayNanos) {
			this.suspects.poll();
			judge(suspect);
		}
	}

	private void judge(Suspect suspect) {
		Sample sample = suspect.sample();
		Map<Long, Long> servedNow;
		if (sample.page() != null) {
			byte[] page = sample.page().servedBody();
			servedNow = (page != null) ? versionsOnPage(page) : Map.of();
			if (servedNow == null) {
				servedNow = Map.of();
			}
		}
		else {
			servedNow = new HashMap<>();
			for (long id : suspect.newer().keySet()) {
				Long version = servedVersion(id);
				if (version == null) {
					judged(this.skippedUnavailable);
					return;
				}
				servedNow.put(id, version);
			}
		}
		List<StaleEntry> found = new ArrayList<>();
		long now = System.nanoTime();
		for (Map.Entry<Long, Long> newer : suspect.newer().entrySet()) {
			long id = newer.getKey();
			long served = servedNow.getOrDefault(id, NOT_SERVED);
			if (served != NOT_SERVED && served < newer.getValue()) {
				found.add(new StaleEntry(id, served, newer.getValue(), Instant.now(),
						Duration.ofNanos(now - sample.servedNanos()), Duration.ofNanos(now - suspect.readNanos()),
						(sample.page() != null) ? "list page" : "product"));
			}
		}
		if (found.isEmpty()) {
			judged(this.consistent);
			return;
		}
		for (StaleEntry entry : found) {
			reportAndRepair(entry);
		}
		if (sample.page() != null) {
			sample.page().invalidateAll();
		}
		judged(this.stale);
	}

	private void judged(Counter result) {
		result.increment();
		this.underWay.decrementAndGet();
	}

	/**
	 * Logs a stale entry at WARN and repairs it: the marker of the committed version (or
	 * the deletion marker) replaces it in Redis, and this instance's near-cache copy is
	 * dropped.
	 */
	void reportAndRepair(StaleEntry entry) {
		this.lastStale = entry;
		logger.atWarn()
			.addKeyValue("outcome", "audit_stale")
			.addKeyValue("id", entry.id())
			.log("CACHE AUDIT STALE: {} {}: the cache served version {} while the database holds {}; still served "
					+ "{} ms after the audited read, and at least {} ms after the newer version was committed; "
					+ "repaired", entry.where(), entry.id(), entry.servedVersion(),
					(entry.currentVersion() == DELETED) ? "no such product (deleted)" : entry.currentVersion(),
					entry.servedFor().toMillis(), entry.staleFor().toMillis());
		if (entry.currentVersion() == DELETED) {
			this.invalidations.invalidateDeleted(entry.id());
		}
		else {
			this.invalidations.invalidate(entry.id(), entry.currentVersion());
		}
	}

	/**
	 * The committed versions of these products, empty if the database could not be read.
	 */
	Optional<Map<Long, Long>> currentVersions(List<Long> ids) {
		try {
			return Optional.of(this.database.current(ids));
		}
		catch (RuntimeException failure) {
			logger.debug("Cache audit could not read the database", failure);
			return Optional.empty();
		}
	}

	/**
	 * The version a read of the product on this instance would serve now:
	 * {@link #NOT_SERVED} when it would go to the database (a marker, no entry, an
	 * invalidation kept), null when Redis does not answer.
	 */
	private Long servedVersion(long id) {
		Lookup copy = this.near.find(id);
		if (copy != null) {
			return copy.version();
		}
		if (this.invalidations.isPending(id)) {
			return NOT_SERVED;
		}
		return servedByRedis(bytes(this.keys.key(id)));
	}

	/**
	 * The version of the value Redis holds under this key, {@link #NOT_SERVED} for
	 * anything else, null when Redis does not answer.
	 */
	Long servedByRedis(byte[] key) {
		Optional<Long> served = this.guard
			.call(() -> this.redis.execute((RedisCallback<Long>) (connection) -> servedBy(connection, key)));
		return served.orElse(null);
	}

	/** As {@link #servedByRedis}, on a connection the caller holds. */
	static long servedBy(RedisConnection connection, byte[] key) {
		List<byte[]> fields;
		try {
			fields = connection.hashCommands().hMGet(key, STATE_AND_VERSION);
		}
		catch (DataAccessException failure) {
			String message = NestedExceptionUtils.getMostSpecificCause(failure).getMessage();
			if (message != null && message.startsWith("WRONGTYPE")) {
				// Not ours; a read drops it.
				return NOT_SERVED;
			}
			throw failure;
		}
		if (fields == null || fields.size() < 2 || fields.get(0) == null || !Arrays.equals(fields.get(0), VALUE)) {
			return NOT_SERVED;
		}
		return digits(fields.get(1));
	}

	/** The products a sample served and their versions; a page's are read once. */
	private Map<Long, Long> versions(Sample sample) {
		if (sample.versions() == null) {
			Map<Long, Long> onPage = versionsOnPage(sample.pageBody());
			sample.setVersions((onPage != null) ? onPage : Map.of());
		}
		return sample.versions();
	}

	/**
	 * The id and version of each product on a page as the page cache stores it (the
	 * list's JSON, {@code {"items":[{"id":..,"version":..},..],..}}); null if it is not
	 * such a page.
	 */
	private Map<Long, Long> versionsOnPage(byte[] body) {
		try {
			JsonNode items = this.json.readTree(body).get("items");
			if (items == null || !items.isArray()) {
				return null;
			}
			Map<Long, Long> versions = new HashMap<>();
			for (JsonNode item : items) {
				JsonNode id = item.get("id");
				JsonNode version = item.get("version");
				if (id != null && version != null && id.canConvertToLong() && version.canConvertToLong()) {
					versions.put(id.asLong(), version.asLong());
				}
			}
			return versions;
		}
		catch (JacksonException notAPage) {
			return null;
		}
	}

	/** The counts of the sampled audit so far, for the health endpoint. */
	Counts counts() {
		return new Counts(this.sample, (long) this.consistent.count(), (long) this.stale.count(),
				(long) this.skippedForBudget.count(), (long) this.skippedUnavailable.count(), this.lastStale);
	}

	/** Sampled hits not yet judged (waiting for Δ, or for their second look). */
	int checksUnderWay() {
		return this.underWay.get();
	}

	/** The audit delay Δ. */
	Duration delay() {
		return this.delay;
	}

	@PreDestroy
	void close() {
		this.checker.shutdownNow();
	}

	static Counter checks(MeterRegistry meters, String audit, String result) {
		return Counter.builder("catalog.cache.audit")
			.description("Cache entries checked against the database by the consistency auditor, by result")
			.tag("audit", audit)
			.tag("result", result)
			.register(meters);
	}

	private static Counter skipped(MeterRegistry meters, String reason) {
		return Counter.builder("catalog.cache.audit.skipped")
			.description(
					"Sampled cache hits not checked: over the audit budget, or Redis or the database not answering")
			.tag("reason", reason)
			.register(meters);
	}

	/**
	 * What the page cache serves for the request of a sampled page, as the auditor needs
	 * it.
	 */
	interface ServedPage {

		/** The page served now for the same request, null if none is cached. */
		byte[] servedBody();

		/** Makes every cached page unreachable. */
		void invalidateAll();

	}

	/** A sampled hit. */
	private static final class Sample {

		/** The id and version of each product it served; a page's once read. */
		private Map<Long, Long> versions;

		/** For a list page, the page as served. */
		private final byte[] pageBody;

		/** When it was served. */
		private final long servedNanos;

		/** For a list page, what the page cache serves now; null for a product. */
		private final ServedPage page;

		Sample(Map<Long, Long> versions, byte[] pageBody, long servedNanos, ServedPage page) {
			this.versions = versions;
			this.pageBody = pageBody;
			this.servedNanos = servedNanos;
			this.page = page;
		}

		Map<Long, Long> versions() {
			return this.versions;
		}

		void setVersions(Map<Long, Long> versions) {
			this.versions = versions;
		}

		byte[] pageBody() {
			return this.pageBody;
		}

		long servedNanos() {
			return this.servedNanos;
		}

		ServedPage page() {
			return this.page;
		}

	}

	/**
	 * A sampled hit that served older versions than the database holds.
	 *
	 * @param sample the hit
	 * @param newer the products concerned, with the versions the database holds
	 * @param readNanos when the database answered: those versions were committed before
	 */
	private record Suspect(Sample sample, Map<Long, Long> newer, long readNanos) {

	}

	/**
	 * A stale entry found.
	 *
	 * @param id the product
	 * @param servedVersion the version the cache served
	 * @param currentVersion the version the database holds ({@code Long.MAX_VALUE}: no
	 * such product)
	 * @param foundAt when it was found
	 * @param servedFor how long after the audited hit (or Redis read) it was still served
	 * @param staleFor how long after the newer version was visible in the database, at
	 * least
	 * @param where {@code product}, {@code list page} or {@code full audit}
	 */
	record StaleEntry(long id, long servedVersion, long currentVersion, Instant foundAt, Duration servedFor,
			Duration staleFor, String where) {

	}

	/**
	 * The sampled audit's counts.
	 *
	 * @param sample the fraction of hits sampled
	 * @param consistent checks that found the cache consistent
	 * @param stale checks that found it stale
	 * @param skippedForBudget sampled hits not checked: over the budget
	 * @param skippedUnavailable sampled hits not checked: Redis or the database did not
	 * answer
	 * @param lastStale the last stale entry found (by either audit), or null
	 */
	record Counts(double sample, long consistent, long stale, long skippedForBudget, long skippedUnavailable,
			StaleEntry lastStale) {

	}

}
