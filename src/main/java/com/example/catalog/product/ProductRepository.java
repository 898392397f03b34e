package com.example.catalog.product;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

import jakarta.persistence.LockModeType;
import jakarta.persistence.criteria.Predicate;

import org.springframework.data.jpa.domain.Specification;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.JpaSpecificationExecutor;
import org.springframework.data.jpa.repository.Lock;
import org.springframework.data.jpa.repository.Query;
import org.springframework.data.repository.query.Param;

/**
 * Database access for products; Spring Data writes the implementation, except for the
 * one-statement update ({@link ProductUpdates}). The list query is a Specification, so
 * each request's SQL holds only the filters it uses: a fixed query with
 * {@code (:name is null or ...)} for every optional filter would keep SQLite from using
 * any index for it, and PostgreSQL's generic plans likewise.
 */
interface ProductRepository extends JpaRepository<Product, Long>, JpaSpecificationExecutor<Product>, ProductUpdates {

	/**
	 * The product, its row locked until the transaction ends, for a read-modify-write
	 * that no other writer may interleave with. PostgreSQL: {@code SELECT ... FOR NO KEY
	 * UPDATE}; a writer that waited reads the row as the one before it committed it (or
	 * finds it deleted). SQLite's dialect adds no locking clause: an IMMEDIATE
	 * transaction holds the database's write lock from its start (see
	 * database/DataSourceConfiguration).
	 */
	@Lock(LockModeType.PESSIMISTIC_WRITE)
	Optional<Product> findLockedById(long id);

	/** One page of the products that match, without counting them. */
	default List<Product> findPage(ProductQuery query) {
		return findBy(matching(query), (products) -> products.slice(query.pageRequest())).getContent();
	}

	/**
	 * The id and version of each of these products that exists, in one query, without
	 * loading the products.
	 */
	@Query("select p.id as id, p.version as version from Product p where p.id in :ids")
	List<IdAndVersion> findVersionsByIdIn(@Param("ids") Collection<Long> ids);

	/** How many products match the query's filters. */
	default long countMatching(ProductQuery query) {
		return count(matching(query));
	}

	private static Specification<Product> matching(ProductQuery query) {
		return (product, criteria, builder) -> {
			List<Predicate> filters = new ArrayList<>();
			if (query.name() != null) {
				filters.add(builder.equal(product.get("nameLower"), query.name()));
			}
			if (query.contains() != null) {
				// A contains search cannot use a B-tree index on either database; it
				// scans the narrow name_lower column.
				filters.add(builder.like(product.get("nameLower"), "%" + escapeLike(query.contains()) + "%", '\\'));
			}
			if (query.minPriceCents() != null) {
				filters.add(builder.greaterThanOrEqualTo(product.get("priceCents"), query.minPriceCents()));
			}
			if (query.maxPriceCents() != null) {
				filters.add(builder.lessThanOrEqualTo(product.get("priceCents"), query.maxPriceCents()));
			}
			if (query.inStock() != null) {
				filters.add(query.inStock() ? builder.greaterThan(product.get("stockQuantity"), 0)
						: builder.equal(product.get("stockQuantity"), 0));
			}
			return builder.and(filters.toArray(Predicate[]::new));
		};
	}

	// "50%" and "a_b" are searched for as written, not as LIKE wildcards.
	private static String escapeLike(String text) {
		return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
	}

	/** A product's id and committed version. */
	interface IdAndVersion {

		Long getId();

		Long getVersion();

	}

}
