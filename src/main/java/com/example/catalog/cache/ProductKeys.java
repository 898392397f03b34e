package com.example.catalog.cache;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import org.springframework.core.io.ClassPathResource;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.stereotype.Component;

/**
 * How a product is laid out in Redis: its key, the lifetimes of entries and markers (with
 * their jitter), the byte encoding of the scripts' arguments and answers, and the scripts
 * themselves.
 */
@Component
public class ProductKeys {

	/**
	 * Tag of the cached JSON's shape, part of every key: change it whenever
	 * {@code ProductResponse}'s JSON changes, so that a new release never serves entries
	 * written by an older one (they expire unread).
	 */
	static final String FORMAT = "json1:";

	/**
	 * Markers must outlive the slowest fill they are there to refuse, and a deletion
	 * marker keeps a deleted product a cheap 404, however short the entries' TTL.
	 */
	static final Duration MIN_MARKER_TTL = Duration.ofMinutes(5);

	/** Version of a deletion marker: newer than any version a product can have. */
	static final long DELETED = Long.MAX_VALUE;

	private final CacheProperties properties;

	private final long markerTtlMillis;

	private final long longestTtlMillis;

	/**
	 * While set (above 0), the longest an entry may live: the change feed is behind, and
	 * an entry must not outlive a change it has not applied by the full TTL.
	 */
	private volatile long entryTtlBoundMillis;

	ProductKeys(CacheProperties properties) {
		this.properties = properties;
		this.markerTtlMillis = Math.max(properties.ttl().toMillis(), MIN_MARKER_TTL.toMillis());
		// Anything longer was not written by this service (or by one with other
		// settings).
		double jittered = 1 + properties.ttlJitter();
		this.longestTtlMillis = Math.max(this.markerTtlMillis,
				Math.round(Math.max(properties.ttl().toMillis(), properties.negativeTtl().toMillis()) * jittered))
				+ 1000;
	}

	/** The Redis key of a product. */
	public String key(long id) {
		return this.properties.keyPrefix() + FORMAT + id;
	}

	/** How long a final marker lives: as long as an entry, and at least five minutes. */
	long markerTtlMillis() {
		return this.markerTtlMillis;
	}

	/** The longest TTL this service gives a key; a longer one was planted. */
	long longestTtlMillis() {
		return this.longestTtlMillis;
	}

	/**
	 * A product entry's TTL, jittered so that entries filled together expire apart, and
	 * no longer than the bound while there is one.
	 */
	long entryTtlMillis() {
		long ttl = jittered(this.properties.ttl());
		long bound = this.entryTtlBoundMillis;
		return (bound > 0) ? Math.min(ttl, bound) : ttl;
	}

	/**
	 * Bounds how long entries live, filled ones and read ones alike, until
	 * {@link #unboundEntryTtl}: for a change feed that fell behind.
	 */
	public void boundEntryTtl(Duration bound) {
		this.entryTtlBoundMillis = Math.max(1, bound.toMillis());
	}

	/** Entries live their full TTL again. */
	public void unboundEntryTtl() {
		this.entryTtlBoundMillis = 0;
	}

	/** The bound on an entry's life, or 0 when there is none. */
	long entryTtlBoundMillis() {
		return this.entryTtlBoundMillis;
	}

	/** A remembered 404's TTL, jittered. */
	long absentTtlMillis() {
		return jittered(this.properties.negativeTtl());
	}

	/** How long an entry lives at most, for log lines that say how long a loss lasts. */
	Duration entryTtl() {
		return this.properties.ttl();
	}

	private long jittered(Duration ttl) {
		double jitter = this.properties.ttlJitter();
		double factor = 1 + jitter * (2 * ThreadLocalRandom.current().nextDouble() - 1);
		return Math.max(1, Math.round(ttl.toMillis() * factor));
	}

	static byte[] number(long value) {
		return bytes(Long.toString(value));
	}

	static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

	static String text(byte[] bytes) {
		return (bytes != null) ? new String(bytes, StandardCharsets.UTF_8) : null;
	}

	/** A version as a script answers it; {@link Lookup#NO_VERSION} if unreadable. */
	static long version(byte[] bytes) {
		try {
			return (bytes != null) ? Long.parseLong(text(bytes)) : Lookup.NO_VERSION;
		}
		catch (NumberFormatException malformed) {
			return Lookup.NO_VERSION;
		}
	}

	/**
	 * A value's version as fill.lua writes it, up to 18 plain digits, parsed without a
	 * String per hit; {@link Lookup#NO_VERSION} for anything else, which the lookup
	 * script then judges.
	 */
	static long digits(byte[] bytes) {
		if (bytes == null || bytes.length == 0 || bytes.length > 18) {
			return Lookup.NO_VERSION;
		}
		long version = 0;
		for (byte digit : bytes) {
			if (digit < '0' || digit > '9') {
				return Lookup.NO_VERSION;
			}
			version = version * 10 + (digit - '0');
		}
		return version;
	}

	// Built from the script's text once: a script made from a resource re-checks the
	// resource inside the jar on every call to compute its SHA (a fifth of a hit's CPU).
	static <T> RedisScript<T> script(String name, Class<T> resultType) {
		try {
			return RedisScript.of(
					new ClassPathResource("cache/" + name + ".lua").getContentAsString(StandardCharsets.UTF_8),
					resultType);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot read the cache script " + name, ex);
		}
	}

}
