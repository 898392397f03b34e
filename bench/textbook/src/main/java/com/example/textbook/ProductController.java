package com.example.textbook;

import java.math.BigDecimal;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * GET /products/{id}: the product as JSON, or 404. PUT /products/{id} with {"price": ...}:
 * changes its price (for the 95/5 mix of bench/textbook.sh, MIX=1).
 */
@RestController
public class ProductController {

	private final ProductService service;

	public ProductController(ProductService service) {
		this.service = service;
	}

	@GetMapping("/products/{id}")
	public Product get(@PathVariable Long id) {
		return this.service.findById(id);
	}

	@PutMapping("/products/{id}")
	public Product update(@PathVariable Long id, @RequestBody PriceChange change) {
		return this.service.updatePrice(id, change.price());
	}

	/** The body of a PUT: {"price": ...}. */
	public record PriceChange(BigDecimal price) {
	}

}
