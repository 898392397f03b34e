package com.example.catalog.product;

import java.util.HashSet;
import java.util.Set;
import java.util.function.LongPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A product's {@code ETag} is its version, as a strong entity tag: the bytes of a
 * product's JSON are the same for one version, wherever they come from (the cache or the
 * database).
 */
final class EntityTags {

	private static final Pattern STRONG_VERSION_TAG = Pattern.compile("\"([0-9]{1,18})\"");

	private EntityTags() {
	}

	/** The ETag of this version, e.g. {@code "3"}. */
	static String of(long version) {
		return "\"" + version + "\"";
	}

	/**
	 * Which versions an {@code If-Match} header names; null when there is no header.
	 * {@code If-Match} compares strongly (RFC 9110, 13.1.1): a weak tag never matches,
	 * nor does one this service did not make; {@code *} matches any version.
	 */
	static LongPredicate matching(String ifMatch) {
		if (ifMatch == null) {
			return null;
		}
		if (ifMatch.strip().equals("*")) {
			return (version) -> true;
		}
		Set<Long> versions = new HashSet<>();
		for (String tag : ifMatch.split(",")) {
			Matcher version = STRONG_VERSION_TAG.matcher(tag.strip());
			if (version.matches()) {
				versions.add(Long.parseLong(version.group(1)));
			}
		}
		return versions::contains;
	}

}
