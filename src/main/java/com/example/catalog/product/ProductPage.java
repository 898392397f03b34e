package com.example.catalog.product;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;

/**
 * One page of the product list as the API returns it (serialized in snake_case).
 *
 * @param items the products on this page, in the requested order
 * @param page the 0-based page number
 * @param size the page size asked for
 * @param totalItems how many products match the filters
 * @param totalPages how many pages of this size they fill
 * @param notFound batch reads only (never on a page): the ids asked for that no product
 * has, in the order asked; the batch's other fields describe one page holding every
 * product found ({@code size} is the number of distinct ids asked)
 */
@Schema(requiredProperties = { "items", "page", "size", "total_items", "total_pages" })
record ProductPage(@ArraySchema(maxItems = 100) List<ProductResponse> items,
		@Schema(minimum = "0", maximum = "1000000") int page, @Schema(minimum = "1", maximum = "100") int size,
		@Schema(minimum = "0", maximum = ProductResponse.MAX_LONG) long totalItems,
		@Schema(minimum = "0", maximum = ProductResponse.MAX_LONG) long totalPages,
		@JsonInclude(JsonInclude.Include.NON_NULL) @ArraySchema(maxItems = 100, schema = @Schema(type = "integer",
				format = "int64", minimum = "1", maximum = ProductResponse.MAX_LONG)) List<Long> notFound) {

	/** A page of the list, which has no {@code not_found}. */
	ProductPage(List<ProductResponse> items, int page, int size, long totalItems, long totalPages) {
		this(items, page, size, totalItems, totalPages, null);
	}

}
