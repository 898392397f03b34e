package com.example.textbook;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/**
 * GET /products/{id}: the product as JSON, or 404.
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

}
