package com.example.catalog.cache;

import java.util.concurrent.atomic.AtomicLong;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.stereotype.Component;

/**
 * Facebook's "gutter", in process: while Redis is unavailable, the products this instance
 * read from the database in the last {@code CACHE_GUTTER_TTL} are served from memory, so
 * that a hot product costs one database read per TTL, not one per request. It is used
 * only while {@link RedisGuard} says Redis does not answer, and emptied the moment Redis
 * answers again. This instance's writes and the change feed drop their products from it
 * (through {@link ProductInvalidations}); a fill that such a drop overtook is not kept.
 * The feed applies changes only while Redis answers, so a change made elsewhere during
 * the outage is served up to the TTL late: the staleness the README states. Its hits are
 * not cache hits of Redis: they are counted apart ({@code gutter_hit}) and not audited.
 */
@Component
public class Gutter {

	private final boolean enabled;

	private final RedisGuard guard;

	/**
	 * Products read from the database, or a {@link Slot} reserved by a read under way.
	 */
	private final Cache<Long, Slot> entries;

	/** Changes each time the gutter is emptied: a fill from before is void. */
	private final AtomicLong epoch = new AtomicLong();

	private final Counter hits;

	Gutter(GutterProperties properties, RedisGuard guard, MeterRegistry meters) {
		this.enabled = properties.enabled();
		this.guard = guard;
		this.entries = Caffeine.newBuilder()
			.maximumSize(properties.maxEntries())
			.expireAfterWrite(properties.ttl())
			.build();
		this.hits = Lookup.counter(meters, "gutter_hit");
		Gauge.builder("catalog.cache.gutter.size", this.entries::estimatedSize)
			.description("Products held in the gutter, the copies served while Redis is unavailable")
			.register(meters);
		guard.onRecovery(this::clear);
	}

	/**
	 * The product as read from the database moments ago, while Redis is unavailable; null
	 * otherwise. Counted as a {@code gutter_hit}.
	 */
	Lookup find(long id) {
		if (!this.enabled || this.guard.isAvailable()) {
			return null;
		}
		Slot slot = this.entries.getIfPresent(id);
		if (slot == null || slot.lookup() == null) {
			return null;
		}
		this.hits.increment();
		return slot.lookup();
	}

	/**
	 * Reserves the place of a product before its database read while Redis is
	 * unavailable, so that a write that commits meanwhile removes the reservation and the
	 * read is not kept. Null when nothing is to be kept.
	 */
	public Reservation reserve(long id) {
		if (!this.enabled || this.guard.isAvailable()) {
			return null;
		}
		long current = this.epoch.get();
		Slot reserved = new Slot(null);
		return (this.entries.asMap().putIfAbsent(id, reserved) == null) ? new Reservation(id, reserved, current) : null;
	}

	/** Keeps what the database answered, unless a write or Redis's return came first. */
	public void keep(Reservation reservation, long version, byte[] json) {
		if (reservation == null) {
			return;
		}
		Slot read = new Slot(new Lookup(Lookup.Outcome.GUTTER, version, json));
		synchronized (this.epoch) {
			if (this.epoch.get() == reservation.epoch()
					&& this.entries.asMap().replace(reservation.id(), reservation.slot(), read)) {
				return;
			}
		}
		this.entries.asMap().remove(reservation.id(), reservation.slot());
	}

	/** Gives up a reservation whose read found nothing or failed. */
	public void release(Reservation reservation) {
		if (reservation != null) {
			this.entries.asMap().remove(reservation.id(), reservation.slot());
		}
	}

	/** Drops the product: written by this instance, or changed as the feed saw. */
	void invalidate(long id) {
		this.entries.invalidate(id);
	}

	private void clear() {
		synchronized (this.epoch) {
			this.epoch.incrementAndGet();
			this.entries.invalidateAll();
		}
	}

	long size() {
		this.entries.cleanUp();
		return this.entries.estimatedSize();
	}

	/**
	 * A product read from the database, or, with a null lookup, a place reserved for a
	 * read under way. Compared by identity, as the near cache's, so that a read replaces
	 * only its own reservation: as records two reservations were equal, and a read that
	 * loaded the old version before a write took the place of one begun after it.
	 */
	static final class Slot {

		private final Lookup lookup;

		Slot(Lookup lookup) {
			this.lookup = lookup;
		}

		Lookup lookup() {
			return this.lookup;
		}

	}

	/**
	 * A place reserved for a product before its database read.
	 *
	 * @param id the product
	 * @param slot the reservation, which a write removes
	 * @param epoch the gutter's epoch when it was made
	 */
	public record Reservation(long id, Slot slot, long epoch) {

	}

}
