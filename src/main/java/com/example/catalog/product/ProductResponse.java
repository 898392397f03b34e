package com.example.catalog.product;

import java.math.BigDecimal;
import java.time.Instant;

/** A product as the API returns it (serialized in snake_case). */
record ProductResponse(long id, String name, String description, BigDecimal price, int stockQuantity, Instant createdAt,
		Instant updatedAt, long version) {

	static ProductResponse from(Product product) {
		return new ProductResponse(product.getId(), product.getName(), product.getDescription(), product.getPrice(),
				product.getStockQuantity(), product.getCreatedAt(), product.getUpdatedAt(), product.getVersion());
	}

}
