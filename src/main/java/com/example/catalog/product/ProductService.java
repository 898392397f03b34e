package com.example.catalog.product;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.LongPredicate;

import tools.jackson.databind.json.JsonMapper;

import com.example.catalog.cache.CacheObservations;
import com.example.catalog.cache.FillLeases;
import com.example.catalog.cache.Gutter;
import com.example.catalog.cache.Lookup;
import com.example.catalog.cache.Lookup.Outcome;
import com.example.catalog.cache.ProductCache;
import com.example.catalog.cache.ProductInvalidations;
import com.example.catalog.cache.ProductPageCache;
import com.example.catalog.cache.SingleFlight;

import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Product use cases with cache-aside. Reads: Redis first; on a miss one caller per id
 * (per instance, and across instances under a fill lease) reads the database and fills
 * Redis. Writes of one product: one at a time ({@link ProductWriters} in this instance,
 * the row lock across instances; on SQLite, updates of different products that wait for
 * the one write connection commit together, see {@link UpdateBatches}), a provisional
 * marker inside the transaction (so a process that dies after the commit leaves no old
 * entry behind), the commit, then the final marker (after an update, the committed
 * product itself, so the reads after it are hits) and a new generation of the cached list
 * pages. While Redis is unavailable, database reads run inside a bulkhead
 * ({@link FallbackReads}), and a product read moments ago is served from the
 * {@link Gutter}.
 */
@Service
class ProductService {

	private final ProductRepository products;

	private final ProductWriters writers;

	private final UpdateBatches updates;

	private final ProductCache cache;

	private final ProductInvalidations invalidations;

	private final SingleFlight loads;

	private final FillLeases leases;

	private final ProductPageCache pages;

	private final Gutter gutter;

	private final FallbackReads fallback;

	private final JsonMapper json;

	private final CacheObservations observations;

	private final TransactionTemplate writeTransaction;

	private final TransactionTemplate readTransaction;

	ProductService(ProductRepository products, ProductWriters writers, UpdateBatches updates, ProductCache cache,
			ProductInvalidations invalidations, SingleFlight loads, FillLeases leases, ProductPageCache pages,
			Gutter gutter, FallbackReads fallback, JsonMapper json, CacheObservations observations,
			PlatformTransactionManager transactionManager) {
		this.products = products;
		this.writers = writers;
		this.updates = updates;
		this.cache = cache;
		this.invalidations = invalidations;
		this.loads = loads;
		this.leases = leases;
		this.pages = pages;
		this.gutter = gutter;
		this.fallback = fallback;
		this.json = json;
		this.observations = observations;
		this.writeTransaction = new TransactionTemplate(transactionManager);
		this.readTransaction = new TransactionTemplate(transactionManager);
		this.readTransaction.setReadOnly(true);
	}

	/**
	 * The product's JSON, from Redis when it is there, its version and where it came
	 * from.
	 */
	CachedJson findJson(long id) {
		Lookup lookup = this.cache.lookup(id);
		return switch (lookup.outcome()) {
			case HIT -> new CachedJson(lookup.json(), lookup.version(), Outcome.HIT);
			case GUTTER -> new CachedJson(lookup.json(), lookup.version(), Outcome.GUTTER);
			case ABSENT -> throw new ProductNotFoundException(id);
			case MISS, BYPASS -> {
				ProductJson loaded = this.loads.load(id, () -> loadAndCache(id, lookup.outcome()))
					.orElseThrow(() -> new ProductNotFoundException(id));
				if (loaded.version() < lookup.version()) {
					// The load joined started before a write whose marker this lookup saw
					// (on another instance, which cannot stop this one's loads): read
					// again.
					loaded = loadAndCache(id, lookup.outcome()).orElseThrow(() -> new ProductNotFoundException(id));
				}
				yield new CachedJson(loaded.json(), loaded.version(), lookup.outcome());
			}
		};
	}

	private Optional<ProductJson> loadAndCache(long id, Outcome outcome) {
		FillLeases.Claim claim = FillLeases.Claim.unleased(id);
		if (outcome == Outcome.MISS) {
			// Callers that missed just before the previous load filled the cache end up
			// here: look again. Across instances one caller takes the fill lease, and
			// the others wait for its fill here instead of reading the database too.
			claim = this.leases.claim(id);
			Lookup again = claim.lookup();
			if (again.outcome() == Outcome.HIT) {
				return Optional.of(new ProductJson(again.version(), again.json()));
			}
			if (again.outcome() == Outcome.ABSENT) {
				return Optional.empty();
			}
		}
		// Reserved before the read: a write that commits meanwhile drops the reservation,
		// and this read is not kept.
		Gutter.Reservation kept = (outcome == Outcome.BYPASS) ? this.gutter.reserve(id) : null;
		Optional<Product> product;
		try {
			// The fill ends the lease (a remembered 404 ends one on an empty key); a
			// failed read, or one the bulkhead refused, marks it failed.
			product = this.leases.readDatabase(claim, () -> this.fallback.read(() -> this.observations.query(id,
					() -> this.readTransaction.execute((status) -> this.products.findById(id)))));
		}
		catch (RuntimeException failed) {
			this.gutter.release(kept);
			throw failed;
		}
		if (product.isEmpty()) {
			this.gutter.release(kept);
			if (outcome == Outcome.MISS) {
				this.cache.putAbsent(id);
			}
			return Optional.empty();
		}
		byte[] body = this.json.writeValueAsBytes(ProductResponse.from(product.get()));
		if (outcome == Outcome.MISS) {
			this.cache.put(id, product.get().getVersion(), body);
		}
		this.gutter.keep(kept, product.get().getVersion(), body);
		return Optional.of(new ProductJson(product.get().getVersion(), body));
	}

	/**
	 * A page of the list, from Redis when it is there. The count of matching products is
	 * taken from Redis when an earlier page of the same search stored it.
	 */
	ProductPageCache.Page findPage(ProductQuery query) {
		return this.pages.get(query.pageKey(), query.filterKey(), (cachedCount) -> loadPage(query, cachedCount));
	}

	private ProductPageCache.Loaded loadPage(ProductQuery query, OptionalLong cachedCount) {
		return this.fallback.read(() -> this.readTransaction.execute((status) -> {
			long total = cachedCount.isPresent() ? cachedCount.getAsLong() : this.products.countMatching(query);
			List<ProductResponse> items = (query.offset() < total)
					? this.products.findPage(query).stream().map(ProductResponse::from).toList() : List.of();
			long totalPages = query.totalPages(total);
			byte[] body = this.json
				.writeValueAsBytes(new ProductPage(items, query.page(), query.size(), total, totalPages));
			return new ProductPageCache.Loaded(body, query.links(totalPages), total);
		}));
	}

	ProductResponse create(ProductRequest request) {
		ProductResponse created = this.writeTransaction.execute((status) -> {
			Product product = this.products.save(request.toProduct());
			this.invalidations.prepareInvalidation(product.getId(), product.getVersion());
			return ProductResponse.from(product);
		});
		this.loads.forget(created.id());
		// A marker, not the value: a new product need not be read soon (an import of
		// many would fill Redis with products nobody reads).
		this.invalidations.invalidate(created.id(), created.version());
		this.pages.invalidateAll();
		return created;
	}

	/**
	 * Applies the changes if the product's version passes the precondition (the
	 * {@code If-Match} header; null when there is none), else fails with 412. Concurrent
	 * writes of one product apply one after the other, each to what the one before it
	 * committed: no write fails because another changed the product at the same moment.
	 */
	ProductJson update(long id, ProductRequest changes, LongPredicate versionMatches) {
		ProductResponse updated = this.writers.oneAtATime(id, () -> this.updates.apply(() -> {
			// UpdateBatches writes the provisional marker before the commit.
			if (versionMatches == null) {
				// One statement instead of a locking read and then the update: one
				// round trip less on PostgreSQL, and no entity to compare and flush
				// (bench/results/write-split-returning.txt). No row changed: the
				// product is gone, or already has these values and keeps its version.
				return this.products.update(id, changes)
					.orElseGet(() -> ProductResponse
						.from(this.products.findById(id).orElseThrow(() -> new ProductNotFoundException(id))));
			}
			Product product = this.products.findLockedById(id).orElseThrow(() -> new ProductNotFoundException(id));
			checkPrecondition(product, versionMatches);
			changes.applyTo(product);
			return ProductResponse.from(this.products.saveAndFlush(product));
		}));
		this.loads.forget(id);
		// The committed value instead of a marker: the reads after the update are hits.
		// The same bytes answer the write.
		byte[] body = this.json.writeValueAsBytes(updated);
		this.invalidations.storeCommitted(id, updated.version(), body);
		this.pages.invalidateAll();
		return new ProductJson(updated.version(), body);
	}

	/**
	 * Deletes the product if its version passes the precondition (null when there is
	 * none). Of concurrent deletes, one deletes it and the others find it gone (404).
	 */
	void delete(long id, LongPredicate versionMatches) {
		this.writers.oneAtATime(id, () -> this.writeTransaction.execute((status) -> {
			Product product = this.products.findLockedById(id).orElseThrow(() -> new ProductNotFoundException(id));
			checkPrecondition(product, versionMatches);
			this.products.delete(product);
			this.products.flush();
			this.invalidations.prepareDeletion(id);
			return id;
		}));
		this.loads.forget(id);
		this.invalidations.invalidateDeleted(id);
		this.pages.invalidateAll();
	}

	// With the row locked the precondition is checked against the version this write
	// replaces, so an If-Match that names it can no longer lose a race (the versioned
	// UPDATE cannot miss), and one that names an older version gets its 412.
	private static void checkPrecondition(Product product, LongPredicate versionMatches) {
		if (versionMatches != null && !versionMatches.test(product.getVersion())) {
			throw new PreconditionFailedException(product.getVersion());
		}
	}

	/**
	 * A product's JSON, its version and where it came from, for the {@code X-Cache}
	 * header.
	 *
	 * @param json the response body
	 * @param version the product's version, as in the JSON
	 * @param source {@code HIT}, {@code MISS}, {@code BYPASS} or {@code GUTTER}
	 */
	record CachedJson(byte[] json, long version, Outcome source) {

	}

	/**
	 * A product's response body and its version, as Redis holds them.
	 *
	 * @param version the product's version, as in the JSON
	 * @param json the response body
	 */
	record ProductJson(long version, byte[] json) {

	}

}
