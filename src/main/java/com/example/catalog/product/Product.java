package com.example.catalog.product;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.PrePersist;
import jakarta.persistence.PreUpdate;
import jakarta.persistence.Table;
import jakarta.persistence.Version;

/**
 * A product as stored in the database. The price is kept in whole cents so it stays exact
 * on SQLite, which has no exact decimal type; the API only ever sees it as a two-decimal
 * number.
 */
@Entity
@Table(name = "products")
class Product {

	@Id
	@GeneratedValue(strategy = GenerationType.IDENTITY)
	private Long id;

	@Column(nullable = false, length = 200)
	private String name;

	/**
	 * The name lower-cased here, not by the database, so that SQLite (which folds ASCII
	 * only) and PostgreSQL agree; the name filters and the name sort use its index.
	 */
	@Column(name = "name_lower", nullable = false, length = 200)
	private String nameLower;

	@Column(length = 2000)
	private String description;

	@Column(name = "price_cents", nullable = false)
	private long priceCents;

	@Column(name = "stock_quantity", nullable = false)
	private int stockQuantity;

	@Column(name = "created_at", nullable = false)
	private Instant createdAt;

	@Column(name = "updated_at", nullable = false)
	private Instant updatedAt;

	/**
	 * Bumped on every update; the cache uses it to refuse storing an older copy than one
	 * it has seen.
	 */
	@Version
	@Column(nullable = false)
	private Long version;

	protected Product() {
	}

	Product(String name, String description, BigDecimal price, int stockQuantity) {
		setName(name);
		this.description = description;
		setPrice(price);
		this.stockQuantity = stockQuantity;
	}

	@PrePersist
	void onCreate() {
		this.createdAt = now();
		this.updatedAt = this.createdAt;
	}

	@PreUpdate
	void onUpdate() {
		this.updatedAt = now();
	}

	// Millisecond precision is what both SQLite and the JSON round trip keep.
	static Instant now() {
		return Instant.now().truncatedTo(ChronoUnit.MILLIS);
	}

	Long getId() {
		return this.id;
	}

	String getName() {
		return this.name;
	}

	void setName(String name) {
		this.name = name;
		this.nameLower = lowerCase(name);
	}

	/** How names are compared by the name filters and sorted. */
	static String lowerCase(String name) {
		return name.toLowerCase(Locale.ROOT);
	}

	String getDescription() {
		return this.description;
	}

	void setDescription(String description) {
		this.description = description;
	}

	BigDecimal getPrice() {
		return BigDecimal.valueOf(this.priceCents, 2);
	}

	void setPrice(BigDecimal price) {
		this.priceCents = cents(price);
	}

	/** A price as it is stored: whole cents. */
	static long cents(BigDecimal price) {
		return price.movePointRight(2).longValueExact();
	}

	int getStockQuantity() {
		return this.stockQuantity;
	}

	void setStockQuantity(int stockQuantity) {
		this.stockQuantity = stockQuantity;
	}

	Instant getCreatedAt() {
		return this.createdAt;
	}

	Instant getUpdatedAt() {
		return this.updatedAt;
	}

	Long getVersion() {
		return this.version;
	}

}
