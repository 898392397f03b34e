package com.example.catalog.cache;

import java.util.Collection;
import java.util.Map;

/**
 * What the database holds now, as the consistency auditor needs it: the committed version
 * of each product of a batch. Provided by the product room, so that the cache room reads
 * the database without knowing it.
 */
public interface ProductVersions {

	/** The most ids {@link #current} is given at once. */
	int MAX_BATCH = 500;

	/**
	 * The committed versions of these products (at most {@link #MAX_BATCH}), in one
	 * database query; an id without an entry has no product (deleted, or never created).
	 */
	Map<Long, Long> current(Collection<Long> ids);

}
