package com.example.catalog.cache;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.example.catalog.cache.Lookup.Outcome;

import org.springframework.data.redis.core.RedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.stereotype.Component;

/**
 * Cached pages of the product list (listing, search, lookup by name): the response body
 * and its {@code Link} header, under a key that holds the catalog's <em>generation</em>.
 * Every committed write increments the generation, which makes every page cached before
 * it unreachable at once, whatever it contained; the pages themselves expire after
 * {@code CACHE_PAGE_TTL_SECONDS}. A reader reads the generation before it queries the
 * database and stores its page under that generation only, so a page loaded before a
 * write is never found after it. When Redis cannot take an increment, the instance keeps
 * it pending and bypasses the page cache until an increment has gone through.
 * <p>
 * Each Redis command touches one key (no multi-key scripts), so this works unchanged on
 * Redis Cluster.
 */
@Component
public class ProductPageCache {

	private static final Logger logger = LoggerFactory.getLogger(ProductPageCache.class);

	private static final RedisScript<Long> NEXT_GENERATION = ProductKeys.script("next-generation", Long.class);

	private final RedisTemplate<String, byte[]> redis;

	private final RedisGuard guard;

	private final CacheAuditor auditor;

	private final String prefix;

	private final Duration ttl;

	/** Increments Redis did not take; above zero, the page cache is bypassed. */
	private final AtomicLong pendingIncrements = new AtomicLong();

	private final Counter hits;

	private final Counter misses;

	private final Counter bypasses;

	ProductPageCache(RedisTemplate<String, byte[]> productCacheTemplate, RedisGuard guard, CacheProperties cache,
			PageCacheProperties pages, CacheAuditor auditor, MeterRegistry meters) {
		this.redis = productCacheTemplate;
		this.guard = guard;
		this.auditor = auditor;
		this.prefix = cache.keyPrefix();
		this.ttl = pages.ttl();
		this.hits = lookups(meters, "hit");
		this.misses = lookups(meters, "miss");
		this.bypasses = lookups(meters, "bypass");
		meters.gauge("catalog.page_cache.generation_increments_pending", this.pendingIncrements, AtomicLong::get);
		guard.onRecovery(this::applyPendingIncrements);
	}

	/**
	 * The page named by {@code pageKey}: from Redis when it is cached, else from the
	 * loader, which gets the number of matching products when it is cached for
	 * {@code filterKey} (so that it need not count them again).
	 * @param pageKey what names the page (its canonical query string)
	 * @param filterKey what names its filters, which all its pages share
	 * @param loader reads the page from the database
	 */
	public Page get(String pageKey, String filterKey, Function<OptionalLong, Loaded> loader) {
		OptionalLong generation = generation();
		if (generation.isEmpty()) {
			log(Outcome.BYPASS, pageKey);
			this.bypasses.increment();
			Loaded loaded = loader.apply(OptionalLong.empty());
			return new Page(loaded.body(), loaded.links(), Outcome.BYPASS);
		}
		String pageRedisKey = key("page:", generation.getAsLong(), pageKey);
		Optional<Page> cached = this.guard.call(() -> this.redis.opsForValue().get(pageRedisKey))
			.flatMap(ProductPageCache::decode);
		if (cached.isPresent()) {
			log(Outcome.HIT, pageKey);
			this.hits.increment();
			if (this.auditor.samplesPage()) {
				this.auditor.page(cached.get().body(), new CacheAuditor.ServedPage() {
					@Override
					public byte[] servedBody() {
						return served(pageKey);
					}

					@Override
					public void invalidateAll() {
						ProductPageCache.this.invalidateAll();
					}
				});
			}
			return cached.get();
		}
		log(Outcome.MISS, pageKey);
		this.misses.increment();
		String countRedisKey = key("count:", generation.getAsLong(), filterKey);
		OptionalLong count = number(this.guard.call(() -> this.redis.opsForValue().get(countRedisKey)));
		Loaded loaded = loader.apply(count);
		// Stored under the generation read before the database was: if a write committed
		// meanwhile, the generation has moved on and nobody will read this entry.
		this.guard.call(() -> {
			this.redis.opsForValue().set(pageRedisKey, encode(loaded), this.ttl.toMillis(), TimeUnit.MILLISECONDS);
			return Boolean.TRUE;
		});
		if (count.isEmpty()) {
			this.guard.call(() -> {
				this.redis.opsForValue()
					.set(countRedisKey, Long.toString(loaded.totalItems()).getBytes(StandardCharsets.US_ASCII),
							this.ttl.toMillis(), TimeUnit.MILLISECONDS);
				return Boolean.TRUE;
			});
		}
		return new Page(loaded.body(), loaded.links(), Outcome.MISS);
	}

	/**
	 * The body of the page the cache serves now for this request, null if none (or Redis
	 * does not answer): for the auditor's second look at a sampled page.
	 */
	private byte[] served(String pageKey) {
		OptionalLong generation = generation();
		if (generation.isEmpty()) {
			return null;
		}
		String pageRedisKey = key("page:", generation.getAsLong(), pageKey);
		return this.guard.call(() -> this.redis.opsForValue().get(pageRedisKey))
			.flatMap(ProductPageCache::decode)
			.map(Page::body)
			.orElse(null);
	}

	/**
	 * Makes every cached page unreachable: call after each committed write. If Redis
	 * cannot take it now, it is kept and retried before the next page is read, and pages
	 * bypass the cache until then.
	 */
	public void invalidateAll() {
		if (increment()) {
			logger.atDebug().addKeyValue("outcome", "invalidated").log("PAGE CACHE INVALIDATED");
			return;
		}
		this.pendingIncrements.incrementAndGet();
		logger.atInfo()
			.addKeyValue("outcome", "invalidation_deferred")
			.log("PAGE CACHE INVALIDATION DEFERRED (Redis unavailable; applied before pages are read again)");
	}

	/** The current generation, or empty when the page cache must not be used now. */
	private OptionalLong generation() {
		if (!applyPendingIncrements()) {
			return OptionalLong.empty();
		}
		String key = this.prefix + "generation";
		Optional<byte[]> current = this.guard.call(() -> this.redis.opsForValue().get(key));
		if (current.isPresent()) {
			return number(current);
		}
		if (!this.guard.isAvailable()) {
			return OptionalLong.empty();
		}
		// No generation yet, or Redis lost it (restart, eviction): start from the
		// clock in microseconds, above any generation used before, so that no page
		// cached under an earlier number can be found again.
		long start = TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis());
		this.guard.call(() -> this.redis.opsForValue()
			.setIfAbsent(key, Long.toString(start).getBytes(StandardCharsets.US_ASCII)));
		return number(this.guard.call(() -> this.redis.opsForValue().get(key)));
	}

	/**
	 * Applies the increments Redis could not take, if any: before a page is read, and as
	 * soon as Redis answers again, since other instances read the generation from Redis
	 * and this one may serve no list read for a long time. False if some are still
	 * pending.
	 */
	private boolean applyPendingIncrements() {
		long pending = this.pendingIncrements.get();
		if (pending == 0) {
			return true;
		}
		if (!increment()) {
			return false;
		}
		// One increment after the missed ones covers them all; one missed meanwhile
		// stays pending for the next attempt.
		if (this.pendingIncrements.compareAndSet(pending, 0)) {
			logger.atInfo().addKeyValue("outcome", "invalidated").log("PAGE CACHE INVALIDATED (deferred)");
		}
		return true;
	}

	// One round trip per committed write: the script does the INCR, or the start from
	// the clock that a missing key needs (INCR alone would start at 1, below numbers used
	// before a loss).
	private boolean increment() {
		String key = this.prefix + "generation";
		byte[] start = Long.toString(TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()))
			.getBytes(StandardCharsets.US_ASCII);
		return this.guard.call(() -> this.redis.execute(NEXT_GENERATION, List.of(key), start)).isPresent();
	}

	// A digest keeps keys short and free of the client's text (which could hold a {hash
	// tag} and pick a Redis Cluster slot).
	private String key(String kind, long generation, String name) {
		try {
			byte[] digest = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
			return this.prefix + kind + generation + ":" + HexFormat.of().formatHex(digest, 0, 16);
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException("SHA-256 is part of every JDK", ex);
		}
	}

	// The Link header's value, a line feed (which no header value holds), then the body.
	private static byte[] encode(Loaded loaded) {
		byte[] links = (loaded.links() + "\n").getBytes(StandardCharsets.UTF_8);
		byte[] value = Arrays.copyOf(links, links.length + loaded.body().length);
		System.arraycopy(loaded.body(), 0, value, links.length, loaded.body().length);
		return value;
	}

	// Anything else under a page key (written by hand, say) is not a page: a miss.
	private static Optional<Page> decode(byte[] value) {
		for (int end = 0; end < value.length; end++) {
			if (value[end] == '\n') {
				return Optional.of(new Page(Arrays.copyOfRange(value, end + 1, value.length),
						new String(value, 0, end, StandardCharsets.UTF_8), Outcome.HIT));
			}
		}
		return Optional.empty();
	}

	// A generation or a count; empty when absent, unreadable or not a number, so that the
	// caller bypasses the cache or counts again instead of failing the request.
	private static OptionalLong number(Optional<byte[]> value) {
		try {
			return value.map((bytes) -> OptionalLong.of(Long.parseLong(new String(bytes, StandardCharsets.US_ASCII))))
				.orElse(OptionalLong.empty());
		}
		catch (NumberFormatException malformed) {
			return OptionalLong.empty();
		}
	}

	private static void log(Outcome outcome, String pageKey) {
		String name = outcome.name();
		if (outcome == Outcome.BYPASS) {
			logger.atDebug()
				.addKeyValue("outcome", name.toLowerCase())
				.addKeyValue("page", pageKey)
				.log("CACHE {}: {}", name, pageKey);
		}
		else {
			logger.atInfo()
				.addKeyValue("outcome", name.toLowerCase())
				.addKeyValue("page", pageKey)
				.log("CACHE {}: {}", name, pageKey);
		}
	}

	private static Counter lookups(MeterRegistry meters, String outcome) {
		return Counter.builder("catalog.page_cache.lookups")
			.description("Product list page cache lookups by outcome")
			.tag("outcome", outcome)
			.register(meters);
	}

	/**
	 * A page as loaded from the database.
	 *
	 * @param body the response body
	 * @param links the {@code Link} header
	 * @param totalItems how many products match its filters
	 */
	public record Loaded(byte[] body, String links, long totalItems) {

	}

	/**
	 * A page to answer with.
	 *
	 * @param body the response body
	 * @param links the {@code Link} header
	 * @param source {@code HIT}, {@code MISS} or {@code BYPASS}, for the {@code X-Cache}
	 * header
	 */
	public record Page(byte[] body, String links, Outcome source) {

	}

}
