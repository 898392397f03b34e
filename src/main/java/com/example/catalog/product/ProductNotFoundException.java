package com.example.catalog.product;

/** No product has the requested id (it never existed or was deleted). */
public class ProductNotFoundException extends RuntimeException {

	private final long id;

	ProductNotFoundException(long id) {
		super("No product with id " + id);
		this.id = id;
	}

	public long getId() {
		return this.id;
	}

}
