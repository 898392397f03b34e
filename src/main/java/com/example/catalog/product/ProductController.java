package com.example.catalog.product;

import java.net.URI;
import java.util.Set;
import java.util.regex.Pattern;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.Valid;
import jakarta.validation.Validator;
import jakarta.validation.groups.Default;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import com.example.catalog.cache.ProductPageCache;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.http.server.ServletServerHttpRequest;
import org.springframework.util.MultiValueMap;
import org.springframework.validation.annotation.Validated;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/**
 * The products REST resource. Reads answer with the cached JSON bytes as they are, with
 * an {@code X-Cache} header; a product's {@code ETag} is its version, so a conditional
 * GET is answered from the cache and a conditional write is refused once the product has
 * changed.
 */
@RestController
@RequestMapping("/products")
class ProductController implements ProductApi {

	private static final Pattern PLAIN_ID = Pattern.compile("[1-9][0-9]{0,18}");

	private final ProductService service;

	private final ProductBatchReads batches;

	private final NotFoundBudget notFoundBudget;

	private final ProductProperties properties;

	private final JsonMapper json;

	private final Validator validator;

	ProductController(ProductService service, ProductBatchReads batches, NotFoundBudget notFoundBudget,
			ProductProperties properties, JsonMapper json, Validator validator) {
		this.service = service;
		this.batches = batches;
		this.notFoundBudget = notFoundBudget;
		this.properties = properties;
		this.json = json;
		this.validator = validator;
	}

	@Override
	@GetMapping(produces = MediaType.APPLICATION_JSON_VALUE)
	public ResponseEntity<byte[]> list(@RequestParam MultiValueMap<String, String> parameters,
			HttpServletRequest request) {
		if (ProductIds.requested(parameters)) {
			return batch(ProductIds.from(parameters), request);
		}
		ProductPageCache.Page page = this.service.findPage(ProductQuery.from(parameters));
		return ResponseEntity.ok()
			.contentType(MediaType.APPLICATION_JSON)
			.header(CACHE_HEADER, page.source().name())
			.header(HttpHeaders.LINK, page.links())
			.header(HttpHeaders.CACHE_CONTROL, this.properties.cacheControl())
			.body(page.body());
	}

	// Spring answers 304 itself when If-None-Match names the batch's ETag.
	private ResponseEntity<byte[]> batch(ProductIds ids, HttpServletRequest request) {
		ProductBatch batch = this.batches.findMany(ids);
		this.notFoundBudget.spend(request.getRemoteAddr(), batch.notFound().size());
		return ResponseEntity.ok()
			.contentType(MediaType.APPLICATION_JSON)
			.eTag(batch.entityTag())
			.header(CACHE_HEADER, batch.cacheOutcome())
			.header(CACHE_COUNTS_HEADER, batch.cacheCounts())
			.header(HttpHeaders.CACHE_CONTROL, this.properties.cacheControl())
			.body(batch.body());
	}

	@Override
	@PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
	public ResponseEntity<ProductResponse> create(
			@Validated({ ProductRequest.OnCreate.class, Default.class }) @RequestBody ProductRequest request) {
		ProductResponse created = this.service.create(request);
		return ResponseEntity.created(URI.create("/products/" + created.id()))
			.eTag(EntityTags.of(created.version()))
			.body(created);
	}

	@Override
	@GetMapping(path = "/{id}", produces = MediaType.APPLICATION_JSON_VALUE)
	public ResponseEntity<byte[]> get(@PathVariable String id) {
		ProductService.CachedJson product = this.service.findJson(productId(id));
		// Spring answers 304 itself when If-None-Match names this ETag.
		return ResponseEntity.ok()
			.contentType(MediaType.APPLICATION_JSON)
			.eTag(EntityTags.of(product.version()))
			.header(CACHE_HEADER, product.source().name())
			.header(HttpHeaders.CACHE_CONTROL, this.properties.cacheControl())
			.body(product.json());
	}

	@Override
	@PutMapping(path = "/{id}", consumes = MediaType.APPLICATION_JSON_VALUE,
			produces = MediaType.APPLICATION_JSON_VALUE)
	public ResponseEntity<byte[]> update(@PathVariable String id,
			@RequestHeader(name = HttpHeaders.IF_MATCH, required = false) String ifMatch,
			@Valid @RequestBody ProductRequest changes) {
		long productId = productId(id);
		if (changes.changesNothing()) {
			throw new ResponseStatusException(HttpStatus.BAD_REQUEST,
					"The body names no field to change: use name, description, price or stock_quantity");
		}
		return written(this.service.update(productId, changes, EntityTags.matching(ifMatch)));
	}

	@Override
	@PatchMapping(path = "/{id}", consumes = MERGE_PATCH_JSON, produces = MediaType.APPLICATION_JSON_VALUE)
	public ResponseEntity<byte[]> patch(@PathVariable String id,
			@RequestHeader(name = HttpHeaders.IF_MATCH, required = false) String ifMatch, @RequestBody JsonNode patch,
			HttpServletRequest request) {
		long productId = productId(id);
		ProductRequest changes;
		try {
			changes = ProductRequest.fromMergePatch(patch, this.json);
		}
		catch (JacksonException ex) {
			// Reported like the same mistake in a PUT body.
			throw new HttpMessageNotReadableException("Invalid merge patch", ex, new ServletServerHttpRequest(request));
		}
		Set<ConstraintViolation<ProductRequest>> violations = this.validator.validate(changes);
		if (!violations.isEmpty()) {
			throw new ConstraintViolationException(violations);
		}
		if (changes.changesNothing()) {
			throw new ResponseStatusException(HttpStatus.BAD_REQUEST,
					"The patch names no field to change: use name, description, price or stock_quantity");
		}
		return written(this.service.update(productId, changes, EntityTags.matching(ifMatch)));
	}

	@Override
	@DeleteMapping("/{id}")
	public ResponseEntity<Void> delete(@PathVariable String id,
			@RequestHeader(name = HttpHeaders.IF_MATCH, required = false) String ifMatch) {
		this.service.delete(productId(id), EntityTags.matching(ifMatch));
		return ResponseEntity.noContent().build();
	}

	// The JSON the update stored in Redis: the reads after it answer the same bytes.
	private static ResponseEntity<byte[]> written(ProductService.ProductJson product) {
		return ResponseEntity.ok()
			.contentType(MediaType.APPLICATION_JSON)
			.eTag(EntityTags.of(product.version()))
			.body(product.json());
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
