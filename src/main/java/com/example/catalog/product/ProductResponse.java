package com.example.catalog.product;

import java.math.BigDecimal;
import java.time.Instant;

import io.swagger.v3.oas.annotations.media.Schema;

/** A product as the API returns it (serialized in snake_case). */
@Schema(requiredProperties = { "id", "name", "description", "price", "stock_quantity", "created_at", "updated_at",
		"version" })
record ProductResponse(@Schema(minimum = "1", maximum = MAX_LONG) long id, @Schema(maxLength = 200) String name,
		@Schema(types = {
				"string", "null" }, maxLength = 2000,
				description = "null when the product has no description") String description,
		@Schema(minimum = "0") BigDecimal price,
		@Schema(minimum = "0", maximum = ProductRequest.MAX_INT) int stockQuantity,
		@Schema(maxLength = 32) Instant createdAt, @Schema(maxLength = 32) Instant updatedAt,
		@Schema(minimum = "0", maximum = MAX_LONG) long version){

	static final String MAX_LONG = "9223372036854775807";

	static ProductResponse from(Product product) {
		return new ProductResponse(product.getId(), product.getName(), product.getDescription(), product.getPrice(),
				product.getStockQuantity(), product.getCreatedAt(), product.getUpdatedAt(), product.getVersion());
	}

}
