package com.example.catalog.product;

import java.util.Optional;

/**
 * The update of a product without {@code If-Match}, in one statement: a fragment of
 * {@link ProductRepository} that Spring Data adds from {@link ProductUpdatesImpl}.
 */
interface ProductUpdates {

	/**
	 * Applies the changes given (a null field keeps its value) to the product in one
	 * statement, its version bumped, and returns the product as changed; empty if no row
	 * changed (the product does not exist, or already has these values). The statement
	 * locks the row itself: a concurrent update of it waits, then applies to the row as
	 * the other committed it (PostgreSQL re-reads it; SQLite lets one writer in at a
	 * time).
	 */
	Optional<ProductResponse> update(long id, ProductRequest changes);

}
