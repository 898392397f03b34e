package com.example.catalog.cache;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.TrackingArgs;
import io.lettuce.core.TrackingInfo.TrackingFlag;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.push.PushMessage;
import io.lettuce.core.codec.StringCodec;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.context.SmartLifecycle;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.stereotype.Component;

import com.example.catalog.cache.Lookup.Outcome;

/**
 * The optional in-process copy of Redis's product hits (Caffeine), kept coherent with
 * Redis's client-side caching: a dedicated RESP3 connection asks Redis to broadcast every
 * change of a product key ({@code CLIENT TRACKING on BCAST PREFIX}), and each change
 * removes the local copy. The copy is used only while that channel is known to work: when
 * it is lost (disconnect, no answer to the heartbeat, Redis failing for the other
 * commands) everything is dropped, and nothing is kept or served until tracking is on
 * again. A fill that an invalidation overtook is not kept, and every copy expires after
 * {@code CACHE_NEAR_TTL_SECONDS} regardless.
 */
@Component
class NearCache implements SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(NearCache.class);

	/**
	 * How often the channel is checked ({@code CLIENT TRACKINGINFO}) while it works, or
	 * tried again while it does not: with the command timeout, the bound on a silently
	 * lost channel.
	 */
	static final Duration HEARTBEAT = Duration.ofMillis(500);

	private final boolean enabled;

	/**
	 * {@code CACHE_NEAR_ENABLED=auto}: where Redis cannot support the near cache, it is
	 * given up for good, said once at INFO; with {@code true}, a WARN, and tried again.
	 */
	private final boolean automatic;

	/** Set once {@code auto} found that Redis cannot support the near cache. */
	private volatile boolean givenUp;

	private final String trackedPrefix;

	private final String clientName;

	private final RedisGuard guard;

	private final LettuceConnectionFactory connectionFactory;

	/** Products read from Redis, or a {@link Slot} reserved by a lookup under way. */
	private final Cache<Long, Slot> entries;

	/** Opens the channel, enables tracking and checks it: one thread, in turn. */
	private final ScheduledExecutorService channel;

	/**
	 * Changes at each loss and each (re)start of the channel: a fill from before is void.
	 */
	private final AtomicLong epoch = new AtomicLong();

	/** Guards the transitions of the channel against fills. */
	private final Object transitions = new Object();

	private final Counter losses;

	private volatile boolean listening;

	/** The tracking connection; touched by the channel thread only. */
	private volatile StatefulRedisConnection<String, String> connection;

	/** Whether the channel may call Redis: between the lifecycle's start and stop. */
	private volatile boolean running;

	private final AtomicBoolean heartbeatScheduled = new AtomicBoolean();

	private volatile boolean warnedUnsupported;

	NearCache(NearCacheProperties properties, CacheProperties cacheProperties, RedisGuard guard,
			LettuceConnectionFactory connectionFactory, MeterRegistry meters) {
		this.enabled = properties.enabled() != NearCacheProperties.Mode.OFF;
		this.automatic = properties.enabled() == NearCacheProperties.Mode.AUTO;
		this.trackedPrefix = cacheProperties.keyPrefix() + ProductKeys.FORMAT;
		this.clientName = clientName(cacheProperties.keyPrefix());
		this.guard = guard;
		this.connectionFactory = connectionFactory;
		this.entries = Caffeine.newBuilder()
			.maximumSize(properties.maxEntries())
			.expireAfterWrite(properties.ttl())
			.build();
		this.channel = Executors.newSingleThreadScheduledExecutor((task) -> {
			Thread thread = new Thread(task, "near-cache-channel");
			thread.setDaemon(true);
			return thread;
		});
		this.losses = Counter.builder("catalog.cache.near.channel_losses")
			.description("Times the near cache was emptied because its invalidation channel was lost")
			.register(meters);
		Gauge.builder("catalog.cache.near.listening", () -> this.listening ? 1 : 0)
			.description("1 while the near cache hears Redis's invalidations and is used, else 0")
			.register(meters);
		Gauge.builder("catalog.cache.near.size", this.entries::estimatedSize)
			.description("Products held in the near cache")
			.register(meters);
		guard.onOutage(() -> lose("Redis unavailable"));
		guard.onRecovery(this::checkSoon);
	}

	/** The name of the tracking connection in {@code CLIENT LIST}. */
	static String clientName(String keyPrefix) {
		return "catalog-near-cache:" + keyPrefix.replaceAll("[^A-Za-z0-9:_.-]", "_");
	}

	@Override
	public void start() {
		this.running = true;
		if (this.enabled && this.heartbeatScheduled.compareAndSet(false, true)) {
			this.channel.scheduleWithFixedDelay(this::check, 0, HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
		}
		else {
			checkSoon();
		}
	}

	/**
	 * Empties the near cache and closes its channel: Redis's connection factory stops
	 * next, and nothing would be heard.
	 */
	@Override
	public void stop() {
		this.running = false;
		synchronized (this.transitions) {
			this.epoch.incrementAndGet();
			this.listening = false;
			this.entries.invalidateAll();
		}
		executeOnChannel(this::closeConnection);
		RedisGuard.awaitCurrentTask(this.channel);
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public int getPhase() {
		return RedisGuard.BACKGROUND_PHASE;
	}

	/** The product as last read from Redis, if it is here and may be used; else null. */
	Lookup find(long id) {
		if (!this.listening) {
			return null;
		}
		Slot slot = this.entries.getIfPresent(id);
		return (slot != null) ? slot.lookup : null;
	}

	/**
	 * Reserves the place of a product before its Redis read, so that an invalidation
	 * arriving meanwhile removes the reservation and the fill is not kept. Null when
	 * nothing is to be kept.
	 */
	Reservation reserve(long id) {
		if (!this.listening) {
			return null;
		}
		long current = this.epoch.get();
		Slot reserved = new Slot(null);
		return (this.entries.asMap().putIfAbsent(id, reserved) == null) ? new Reservation(id, reserved, current) : null;
	}

	/**
	 * Keeps what Redis answered, if it was a hit and nothing invalidated it meanwhile.
	 */
	void keep(Reservation reservation, Lookup lookup) {
		if (reservation == null) {
			return;
		}
		if (lookup.outcome() == Outcome.HIT) {
			synchronized (this.transitions) {
				if (this.listening && this.epoch.get() == reservation.epoch()
						&& this.entries.asMap().replace(reservation.id(), reservation.slot(), new Slot(lookup))) {
					return;
				}
			}
		}
		this.entries.asMap().remove(reservation.id(), reservation.slot());
	}

	/**
	 * Drops the local copy of a product: after this instance's own write, once Redis
	 * holds its marker.
	 */
	void invalidate(long id) {
		this.entries.invalidate(id);
	}

	private void checkSoon() {
		if (this.enabled) {
			executeOnChannel(this::check);
		}
	}

	private void executeOnChannel(Runnable task) {
		try {
			this.channel.execute(task);
		}
		catch (RejectedExecutionException shuttingDown) {
			// nothing to do any more
		}
	}

	/**
	 * The heartbeat, on the channel thread: opens the connection and enables tracking
	 * while the near cache is off; while it is on, asks Redis whether tracking is still
	 * on (an answer also proves the connection alive).
	 */
	private void check() {
		if (!this.running || this.givenUp) {
			return;
		}
		try {
			if (!this.guard.isAvailable()) {
				lose("Redis unavailable");
				return;
			}
			if (this.connection == null) {
				this.connection = open();
				if (this.connection == null) {
					return;
				}
			}
			if (this.listening && !this.connection.sync().clientTrackinginfo().getFlags().contains(TrackingFlag.ON)) {
				// A reconnect that the disconnect event did not report.
				lose("tracking found off");
			}
			if (!this.listening) {
				enableTracking(this.connection);
				if (this.givenUp) {
					closeConnection();
				}
			}
		}
		catch (RuntimeException ex) {
			String cause = NestedExceptionUtils.getMostSpecificCause(ex).getMessage();
			if (cause != null && cause.startsWith("NOPERM")) {
				stayOff("Redis's user may not enable tracking (" + cause + ")");
			}
			lose("invalidation channel failed: " + cause);
			// A connection whose peer vanished without closing it would never recover: a
			// fresh one next time.
			StatefulRedisConnection<String, String> failed = this.connection;
			this.connection = null;
			if (failed != null) {
				failed.closeAsync();
			}
		}
	}

	private StatefulRedisConnection<String, String> open() {
		AbstractRedisClient client = this.connectionFactory.getNativeClient();
		if (!(client instanceof RedisClient redisClient)) {
			stayOff("it needs a standalone or Sentinel Redis, not a Cluster");
			return null;
		}
		StatefulRedisConnection<String, String> opened = redisClient.connect(StringCodec.UTF8);
		opened.addListener(this::onPush);
		opened.addListener(new RedisConnectionStateListener() {
			@Override
			public void onRedisDisconnected(RedisChannelHandler<?, ?> handler) {
				if (NearCache.this.connection == opened) {
					lose("invalidation channel disconnected");
				}
			}

			@Override
			public void onRedisConnected(RedisChannelHandler<?, ?> handler, java.net.SocketAddress address) {
				checkSoon();
			}
		});
		return opened;
	}

	private void enableTracking(StatefulRedisConnection<String, String> tracking) {
		long before = this.epoch.get();
		tracking.sync().clientSetname(this.clientName);
		if (!tracking.sync().clientInfo().contains(" resp=3")) {
			stayOff("Redis answers in RESP2, which delivers no invalidations on the same connection "
					+ "(RESP3 needs Redis 6.2 or newer here)");
			return;
		}
		// After a reconnect tracking is off; after an outage of the other commands it may
		// still be on, and re-enabling BCAST mode needs it off first.
		tracking.sync().clientTracking(TrackingArgs.Builder.enabled(false));
		tracking.sync().clientTracking(TrackingArgs.Builder.enabled().bcast().prefixes(this.trackedPrefix));
		synchronized (this.transitions) {
			// Lost again meanwhile, or Redis failing for the other commands: not yet.
			if (this.epoch.get() != before || !this.guard.isAvailable() || this.connection != tracking) {
				return;
			}
			this.entries.invalidateAll();
			this.epoch.incrementAndGet();
			this.listening = true;
		}
		logger.info("Near cache on: tracking changes of {}* in Redis", this.trackedPrefix);
	}

	/**
	 * Redis cannot support the near cache: with {@code auto}, said once and not tried
	 * again; with {@code true}, a warning, once, and tried again at each heartbeat.
	 */
	private void stayOff(String reason) {
		if (this.automatic) {
			if (!this.givenUp) {
				this.givenUp = true;
				logger.info("Near cache off (CACHE_NEAR_ENABLED=auto): {}", reason);
			}
		}
		else if (!this.warnedUnsupported) {
			this.warnedUnsupported = true;
			logger.warn("The near cache stays off: {}", reason);
		}
	}

	/**
	 * Empties the near cache and stops using it: from now on it cannot hear about
	 * changes.
	 */
	private void lose(String reason) {
		if (!this.enabled) {
			return;
		}
		boolean wasListening;
		synchronized (this.transitions) {
			this.epoch.incrementAndGet();
			wasListening = this.listening;
			this.listening = false;
			this.entries.invalidateAll();
		}
		if (wasListening) {
			this.losses.increment();
			logger.warn("Near cache off ({}): emptied, and unused until tracking is on again", reason);
		}
	}

	// On Lettuce's event loop: brief.
	private void onPush(PushMessage message) {
		if (!"invalidate".equals(message.getType())) {
			return;
		}
		List<Object> content = message.getContent(StringCodec.UTF8::decodeKey);
		if (content.size() < 2 || !(content.get(1) instanceof List<?> keys)) {
			// No keys: Redis was flushed.
			this.entries.invalidateAll();
			return;
		}
		for (Object key : keys) {
			String name = String.valueOf(key);
			if (name.startsWith(this.trackedPrefix)) {
				try {
					this.entries.invalidate(Long.parseLong(name.substring(this.trackedPrefix.length())));
				}
				catch (NumberFormatException notAProduct) {
					// not a key this service reads by id
				}
			}
		}
	}

	@PreDestroy
	void close() {
		this.channel.shutdownNow();
		closeConnection();
	}

	private void closeConnection() {
		StatefulRedisConnection<String, String> tracking = this.connection;
		this.connection = null;
		if (tracking != null) {
			tracking.closeAsync();
		}
	}

	/**
	 * A place in the near cache: a product read from Redis, or, with a null lookup, one
	 * reserved for a read under way. Compared by identity, so that a fill replaces only
	 * its own reservation.
	 */
	private static final class Slot {

		private final Lookup lookup;

		Slot(Lookup lookup) {
			this.lookup = lookup;
		}

	}

	/**
	 * A lookup's claim to fill the near cache with what Redis answers.
	 *
	 * @param id the product
	 * @param slot the place reserved
	 * @param epoch the channel's epoch when it was reserved
	 */
	record Reservation(long id, Slot slot, long epoch) {

	}

}
