package com.example.textbook;

import java.math.BigDecimal;

import org.springframework.cache.annotation.CacheEvict;
import org.springframework.cache.annotation.Cacheable;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.web.server.ResponseStatusException;

/**
 * Reads a product through the "products" cache: Redis first, the database on a miss; an
 * update evicts it, as Spring's guides do.
 */
@Service
public class ProductService {

	private final ProductRepository repository;

	public ProductService(ProductRepository repository) {
		this.repository = repository;
	}

	@Cacheable("products")
	public Product findById(Long id) {
		return this.repository.findById(id).orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND));
	}

	@CacheEvict(value = "products", key = "#id")
	@Transactional
	public Product updatePrice(Long id, BigDecimal price) {
		Product product = this.repository.findById(id)
			.orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND));
		product.setPrice(price);
		return product;
	}

}
