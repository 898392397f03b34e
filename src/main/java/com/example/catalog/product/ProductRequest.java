package com.example.catalog.product;

import java.math.BigDecimal;

import com.fasterxml.jackson.annotation.JsonAlias;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Digits;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.PositiveOrZero;
import jakarta.validation.constraints.Size;

/**
 * The body of POST (every required field present) and PUT (only the fields to change). On
 * PUT an absent or null field keeps its value; an empty description removes the
 * description.
 */
record ProductRequest(
		@NotNull(groups = OnCreate.class) @Size(min = 1, max = 200) @Pattern(regexp = NO_CONTROLS,
				message = "must not contain control or invisible formatting characters") String name,
		@Size(max = 2000) @Pattern(regexp = NO_CONTROLS_BUT_LINES,
				message = "must not contain control characters other than tab and line breaks") String description,
		@NotNull(groups = OnCreate.class) @DecimalMin("0.00") @Digits(integer = 15, fraction = 2) BigDecimal price,
		@JsonAlias("quantity") @NotNull(groups = OnCreate.class) @PositiveOrZero Integer stockQuantity) {

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

	/** Validation group of the checks that only creating a product needs. */
	interface OnCreate {

	}

	ProductRequest {
		name = (name != null) ? name.strip() : null;
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
	private String normalizedDescription() {
		return (this.description == null || this.description.isEmpty()) ? null : this.description;
	}

}
