package com.example.catalog.product;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import tools.jackson.databind.json.JsonMapper;

import com.example.catalog.cache.Lookup;
import com.example.catalog.cache.Lookup.Outcome;
import com.example.catalog.cache.ProductBatchLookup;
import com.example.catalog.cache.ProductCache;

import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Batch reads, cache-aside for many ids at once: the cache answers what it holds (near
 * cache, then one round trip to Redis), then one query reads every product it did not
 * hold, and each is filled through the same version-guarded fill as a single read (which
 * also skips an id whose invalidation is pending). An id nobody has is remembered like a
 * 404. The loads are not coalesced with concurrent single reads: the batch's one query
 * costs the database less than waiting for theirs.
 */
@Service
class ProductBatchReads {

	private final ProductBatchLookup lookups;

	private final ProductCache cache;

	private final ProductRepository products;

	private final JsonMapper json;

	private final FallbackReads fallback;

	private final TransactionTemplate readTransaction;

	ProductBatchReads(ProductBatchLookup lookups, ProductCache cache, ProductRepository products, JsonMapper json,
			FallbackReads fallback, PlatformTransactionManager transactionManager) {
		this.fallback = fallback;
		this.lookups = lookups;
		this.cache = cache;
		this.products = products;
		this.json = json;
		this.readTransaction = new TransactionTemplate(transactionManager);
		this.readTransaction.setReadOnly(true);
	}

	/** The products with these ids, in this order, and the ids no product has. */
	ProductBatch findMany(ProductIds ids) {
		Map<Long, Lookup> found = this.lookups.lookupAll(ids.ids());
		List<Long> unanswered = found.entrySet()
			.stream()
			.filter((entry) -> entry.getValue().outcome() == Outcome.MISS
					|| entry.getValue().outcome() == Outcome.BYPASS)
			.map(Map.Entry::getKey)
			.toList();
		Map<Long, Product> loaded = load(unanswered);
		List<ProductBatch.Item> items = new ArrayList<>();
		List<Long> notFound = new ArrayList<>();
		int fromCache = 0;
		int filled = 0;
		int bypassed = 0;
		for (Map.Entry<Long, Lookup> entry : found.entrySet()) {
			long id = entry.getKey();
			Lookup lookup = entry.getValue();
			switch (lookup.outcome()) {
				case HIT -> {
					fromCache++;
					items.add(new ProductBatch.Item(id, lookup.version(), lookup.json()));
				}
				case ABSENT -> {
					fromCache++;
					notFound.add(id);
				}
				case MISS, BYPASS -> {
					boolean fill = lookup.outcome() == Outcome.MISS;
					if (fill) {
						filled++;
					}
					else {
						bypassed++;
					}
					Product product = loaded.get(id);
					if (product == null) {
						if (fill) {
							this.cache.putAbsent(id);
						}
						notFound.add(id);
						continue;
					}
					byte[] body = this.json.writeValueAsBytes(ProductResponse.from(product));
					if (fill) {
						this.cache.put(id, product.getVersion(), body);
					}
					items.add(new ProductBatch.Item(id, product.getVersion(), body));
				}
			}
		}
		return new ProductBatch(items, notFound, fromCache, filled, bypassed);
	}

	// One statement, WHERE id IN (...), whatever the number of ids.
	private Map<Long, Product> load(List<Long> ids) {
		if (ids.isEmpty()) {
			return Map.of();
		}
		Map<Long, Product> loaded = new HashMap<>();
		// While Redis is unavailable, the batch's one query takes one place in the
		// bulkhead.
		this.fallback.read(() -> this.readTransaction.execute((status) -> {
			this.products.findAllById(ids).forEach((product) -> loaded.put(product.getId(), product));
			return loaded;
		}));
		return loaded;
	}

}
