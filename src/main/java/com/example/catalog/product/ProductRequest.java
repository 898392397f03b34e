package com.example.catalog.product;

import java.math.BigDecimal;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonAlias;
import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Digits;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.PositiveOrZero;
import jakarta.validation.constraints.Size;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import org.springframework.http.HttpStatus;
import org.springframework.web.server.ResponseStatusException;

/**
 * The body of POST (every required field present) and PUT (only the fields to change),
 * and what a PATCH merge patch is turned into. On PUT an absent or null field keeps its
 * value; an empty description removes the description.
 */
@Schema(description = "A product's fields as a client sends them: all required on POST; on PUT and PATCH only "
		+ "those to change")
record ProductRequest(
		@NotNull(groups = OnCreate.class) @Size(min = 1, max = 200) @Pattern(regexp = NO_CONTROLS,
				message = "must not contain control or invisible formatting characters") String name,
		@Schema(types = {
				"string", "null" },
				description = DESCRIPTION_RULE) @Size(max = 2000) @Pattern(regexp = NO_CONTROLS_BUT_LINES,
						message = "must not contain control characters other than tab and line breaks") String description,
		@Schema(description = "Exact, at most 2 decimals") @NotNull(
				groups = OnCreate.class) @DecimalMin("0.00") @Digits(integer = 15, fraction = 2) BigDecimal price,
		@Schema(format = "int32", maximum = MAX_INT) @JsonAlias("quantity") @NotNull(
				groups = OnCreate.class) @PositiveOrZero Integer stockQuantity){

	// Names end up in logs, terminals and other systems: no control characters, no lone
	// surrogate halves (which are not text and do not survive a round trip through
	// UTF-8),
	// and no format characters (category Cf: bidi overrides, zero-width spaces) that make
	// a name display as something else. The joiners U+200C and U+200D stay: Persian,
	// Indic scripts and emoji sequences need them.
	static final String NO_CONTROLS = "[[^\\p{Cc}\\p{Cs}\\p{Cf}]\\u200C\\u200D]*";

	// One character class, not an alternation: Java matches an alternation under *
	// recursively, which overflows the stack on long input.
	static final String NO_CONTROLS_BUT_LINES = "[^\\p{Cs}\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]*";

	static final String DESCRIPTION_RULE = "\"\" (or, in a merge patch, null) removes the description: it is "
			+ "stored and returned as null. On PUT, null keeps it.";

	static final String MAX_INT = "2147483647";

	/** Validation group of the checks that only creating a product needs. */
	interface OnCreate {

	}

	/** Fields a merge patch cannot remove: a product always has them. */
	private static final List<String> REQUIRED = List.of("name", "price", "stock_quantity", "quantity");

	ProductRequest {
		name = (name != null) ? name.strip() : null;
	}

	/**
	 * Reads a JSON merge patch (RFC 7396): a member changes that field, {@code null}
	 * removes the description and is refused for the fields every product has, an absent
	 * member keeps the field. The result is read with the same strict JSON rules as a PUT
	 * body and then validated like one; Jackson's exceptions reach the caller as they
	 * would from a body.
	 */
	static ProductRequest fromMergePatch(JsonNode patch, JsonMapper json) {
		if (!(patch instanceof ObjectNode members)) {
			throw new ResponseStatusException(HttpStatus.BAD_REQUEST,
					"A merge patch of a product must be a JSON object");
		}
		ObjectNode changes = members.deepCopy();
		for (String field : REQUIRED) {
			JsonNode value = changes.get(field);
			if (value != null && value.isNull()) {
				throw new ResponseStatusException(HttpStatus.BAD_REQUEST,
						"Field '" + field + "' cannot be removed (null): every product has one");
			}
		}
		JsonNode description = changes.get("description");
		if (description != null && description.isNull()) {
			changes.put("description", "");
		}
		return json.treeToValue(changes, ProductRequest.class);
	}

	boolean changesNothing() {
		return this.name == null && this.description == null && this.price == null && this.stockQuantity == null;
	}

	Product toProduct() {
		return new Product(this.name, normalizedDescription(), this.price, this.stockQuantity);
	}

	void applyTo(Product product) {
		if (this.name != null) {
			product.setName(this.name);
		}
		if (this.description != null) {
			product.setDescription(normalizedDescription());
		}
		if (this.price != null) {
			product.setPrice(this.price);
		}
		if (this.stockQuantity != null) {
			product.setStockQuantity(this.stockQuantity);
		}
	}

	// An empty description means "no description".
	String normalizedDescription() {
		return (this.description == null || this.description.isEmpty()) ? null : this.description;
	}

}
