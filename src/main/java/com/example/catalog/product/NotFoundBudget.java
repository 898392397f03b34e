package com.example.catalog.product;

/**
 * The per-client budget of reads of products that do not exist ({@code
 * NOT_FOUND_PER_SECOND}). A single read that finds nothing spends it through its 404; a
 * batch read answers 200 and spends it here, once per id it did not find, so that a batch
 * is no way around the limit. {@code web} implements it.
 */
public interface NotFoundBudget {

	/** Spends {@code notFound} of this client's budget (as far as it goes). */
	void spend(String client, int notFound);

}
