package com.example.catalog.product;

import java.net.URI;
import java.util.regex.Pattern;

import jakarta.validation.Valid;
import jakarta.validation.groups.Default;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.validation.annotation.Validated;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/**
 * The products REST resource. GET by id answers with the cached JSON bytes as they are.
 */
@RestController
@RequestMapping("/products")
class ProductController {

	static final String CACHE_HEADER = "X-Cache";

	private static final Pattern PLAIN_ID = Pattern.compile("[1-9][0-9]{0,18}");

	private final ProductService service;

	ProductController(ProductService service) {
		this.service = service;
	}

	@PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
	ResponseEntity<ProductResponse> create(
			@Validated({ ProductRequest.OnCreate.class, Default.class }) @RequestBody ProductRequest request) {
		ProductResponse created = this.service.create(request);
		return ResponseEntity.created(URI.create("/products/" + created.id())).body(created);
	}

	@GetMapping("/{id}")
	ResponseEntity<byte[]> get(@PathVariable String id) {
		ProductService.CachedJson product = this.service.findJson(productId(id));
		return ResponseEntity.ok()
			.contentType(MediaType.APPLICATION_JSON)
			.header(CACHE_HEADER, product.source().name())
			.body(product.json());
	}

	@PutMapping(path = "/{id}", consumes = MediaType.APPLICATION_JSON_VALUE)
	ProductResponse update(@PathVariable String id, @Valid @RequestBody ProductRequest changes) {
		long productId = productId(id);
		if (changes.changesNothing()) {
			throw new ResponseStatusException(HttpStatus.BAD_REQUEST,
					"The body names no field to change: use name, description, price or stock_quantity");
		}
		return this.service.update(productId, changes);
	}

	@DeleteMapping("/{id}")
	ResponseEntity<Void> delete(@PathVariable String id) {
		this.service.delete(productId(id));
		return ResponseEntity.noContent().build();
	}

	// Only the plain decimal form: Spring's own conversion would also read " 1", "+1",
	// "0x10", "#10" and non-ASCII digits, so one product would answer to many paths.
	private static long productId(String text) {
		if (!PLAIN_ID.matcher(text).matches()) {
			throw new ResponseStatusException(HttpStatus.BAD_REQUEST, "Product id must be a positive whole number");
		}
		try {
			return Long.parseLong(text);
		}
		catch (NumberFormatException tooLarge) {
			throw new ResponseStatusException(HttpStatus.BAD_REQUEST, "Product id is too large");
		}
	}

}
