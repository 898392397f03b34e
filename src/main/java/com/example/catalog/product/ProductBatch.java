package com.example.catalog.product;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

import com.example.catalog.cache.Lookup.Outcome;

/**
 * The answer of a batch read: the products found, in the order asked, each with where it
 * came from, and the ids not found. Its body is the list page's envelope, assembled from
 * the products' JSON bytes as cached (never parsed again); its ETag is a digest of the
 * ids and versions, so that a client revalidates the whole batch at once.
 *
 * @param items the products found, in the order asked
 * @param notFound the ids no product has, in the order asked
 * @param fromCache how many ids the cache answered (near cache or Redis, remembered 404s
 * included)
 * @param filled how many were read from the database and stored in Redis
 * @param bypassed how many were read from the database without Redis
 */
record ProductBatch(List<Item> items, List<Long> notFound, int fromCache, int filled, int bypassed) {

	/**
	 * {@code HIT} only when the cache answered every id; {@code BYPASS} when some were
	 * read without Redis; {@code MISS} otherwise.
	 */
	String cacheOutcome() {
		if (this.bypassed > 0) {
			return Outcome.BYPASS.name();
		}
		return (this.filled > 0) ? Outcome.MISS.name() : Outcome.HIT.name();
	}

	/**
	 * The counts behind {@link #cacheOutcome()}, e.g. {@code hit=48, miss=2, bypass=0}.
	 */
	String cacheCounts() {
		return "hit=" + this.fromCache + ", miss=" + this.filled + ", bypass=" + this.bypassed;
	}

	/**
	 * A strong ETag over each id and its version (or its absence), in order: the body's
	 * bytes follow from them, as a product's do from its version.
	 */
	String entityTag() {
		StringBuilder state = new StringBuilder();
		this.items.forEach((item) -> state.append(item.id()).append(':').append(item.version()).append(';'));
		this.notFound.forEach((id) -> state.append(id).append(":-;"));
		try {
			byte[] digest = MessageDigest.getInstance("SHA-256")
				.digest(state.toString().getBytes(StandardCharsets.UTF_8));
			return "\"" + HexFormat.of().formatHex(digest, 0, 16) + "\"";
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException("Every JDK has SHA-256", ex);
		}
	}

	/**
	 * The list page's envelope ({@code page} 0, {@code size} the ids asked, one page of
	 * the products found) with {@code not_found}.
	 */
	byte[] body() {
		int size = this.items.size() + this.notFound.size();
		ByteArrayOutputStream body = new ByteArrayOutputStream(64 + this.items.size() * 256);
		body.writeBytes(ascii("{\"items\":["));
		for (int i = 0; i < this.items.size(); i++) {
			if (i > 0) {
				body.write(',');
			}
			body.writeBytes(this.items.get(i).json());
		}
		body.writeBytes(ascii("],\"page\":0,\"size\":" + size + ",\"total_items\":" + this.items.size()
				+ ",\"total_pages\":" + (this.items.isEmpty() ? 0 : 1) + ",\"not_found\":["));
		for (int i = 0; i < this.notFound.size(); i++) {
			body.writeBytes(ascii(((i > 0) ? "," : "") + this.notFound.get(i)));
		}
		body.writeBytes(ascii("]}"));
		return body.toByteArray();
	}

	private static byte[] ascii(String text) {
		return text.getBytes(StandardCharsets.US_ASCII);
	}

	/**
	 * A product found.
	 *
	 * @param id its id
	 * @param version its version, as in the JSON
	 * @param json its JSON, as a single read answers it
	 */
	record Item(long id, long version, byte[] json) {

	}

}
