package com.example.catalog.product;

import java.math.BigDecimal;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.Optional;

import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * {@link ProductUpdates} with Spring's {@link JdbcClient}: the statement and its row go
 * straight through JDBC, inside the caller's transaction. As Hibernate's native query the
 * statement cost a {@code PUT} 0.135 ms of CPU, and the product it returned was managed
 * for nothing; this way 0.080 ms (BENCHMARKS.md, note 23). Timestamps are bound and read
 * as {@link Timestamp}, as Hibernate stores them: epoch milliseconds on SQLite, a
 * {@code timestamptz} on PostgreSQL.
 */
class ProductUpdatesImpl implements ProductUpdates {

	private static final String UPDATE = """
			UPDATE products SET
			    name = COALESCE(:name, name), name_lower = COALESCE(:nameLower, name_lower),
			    description = CASE WHEN :descriptionGiven THEN :description ELSE description END,
			    price_cents = COALESCE(:priceCents, price_cents),
			    stock_quantity = COALESCE(:stockQuantity, stock_quantity),
			    updated_at = :updatedAt, version = version + 1
			WHERE id = :id AND (name <> COALESCE(:name, name)
			    OR description IS DISTINCT FROM (CASE WHEN :descriptionGiven THEN :description ELSE description END)
			    OR price_cents <> COALESCE(:priceCents, price_cents)
			    OR stock_quantity <> COALESCE(:stockQuantity, stock_quantity))
			RETURNING id, name, description, price_cents, stock_quantity, created_at, updated_at, version
			""";

	private final JdbcClient jdbc;

	ProductUpdatesImpl(JdbcClient jdbc) {
		this.jdbc = jdbc;
	}

	@Override
	public Optional<ProductResponse> update(long id, ProductRequest changes) {
		String name = changes.name();
		// Typed, so that a null is bound without asking the driver for the parameter's
		// type (a round trip on PostgreSQL).
		return this.jdbc.sql(UPDATE)
			.param("id", id, Types.BIGINT)
			.param("name", name, Types.VARCHAR)
			.param("nameLower", (name != null) ? Product.lowerCase(name) : null, Types.VARCHAR)
			.param("descriptionGiven", changes.description() != null, Types.BOOLEAN)
			.param("description", changes.normalizedDescription(), Types.VARCHAR)
			.param("priceCents", (changes.price() != null) ? Product.cents(changes.price()) : null, Types.BIGINT)
			.param("stockQuantity", changes.stockQuantity(), Types.INTEGER)
			.param("updatedAt", Timestamp.from(Product.now()), Types.TIMESTAMP)
			.query(ProductUpdatesImpl::updated)
			.optional();
	}

	private static ProductResponse updated(ResultSet row, int number) throws SQLException {
		return new ProductResponse(row.getLong("id"), row.getString("name"), row.getString("description"),
				BigDecimal.valueOf(row.getLong("price_cents"), 2), row.getInt("stock_quantity"),
				row.getTimestamp("created_at").toInstant(), row.getTimestamp("updated_at").toInstant(),
				row.getLong("version"));
	}

}
