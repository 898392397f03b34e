package com.example.catalog.product;

import java.net.URI;
import java.util.HashSet;
import java.util.Set;
import java.util.function.LongPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.enums.ParameterIn;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.swagger.v3.oas.annotations.tags.Tag;
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
@Tag(name = "Products", description = "The product catalog")
class ProductController {

	static final String CACHE_HEADER = "X-Cache";

	static final String MERGE_PATCH_JSON = "application/merge-patch+json";

	private static final Pattern PLAIN_ID = Pattern.compile("[1-9][0-9]{0,18}");

	private static final Pattern STRONG_VERSION_TAG = Pattern.compile("\"([0-9]{1,18})\"");

	private static final String X_CACHE_DESCRIPTION = "Where the answer came from: HIT (Redis, or this instance's near cache), MISS (the database, "
			+ "then stored in Redis) or BYPASS (the database; Redis not used)";

	private static final String ETAG_DESCRIPTION = "The product's version as a strong entity tag, e.g. \"3\"";

	private static final String PRODUCT_EXAMPLE = """
			{"id":1,"name":"Espresso cup","description":"Porcelain, 90 ml","price":12.50,"stock_quantity":40,\
			"created_at":"2026-11-23T10:14:46.581Z","updated_at":"2026-11-23T10:14:46.581Z","version":0}""";

	private final ProductService service;

	private final ProductProperties properties;

	private final JsonMapper json;

	private final Validator validator;

	ProductController(ProductService service, ProductProperties properties, JsonMapper json, Validator validator) {
		this.service = service;
		this.properties = properties;
		this.json = json;
		this.validator = validator;
	}

	@Operation(summary = "List, search or look up products by name",
			description = "One page of the catalog, filtered and sorted. The Link header names the first, last, "
					+ "previous and next pages. Names are not unique: the lookup by name is the name filter. "
					+ "Unknown, repeated or malformed parameters are refused with 400, each one named.")
	@Parameter(name = "page", in = ParameterIn.QUERY, description = "0-based page number",
			schema = @Schema(type = "integer", minimum = "0", maximum = "1000000", defaultValue = "0"))
	@Parameter(name = "size", in = ParameterIn.QUERY, description = "Products per page",
			schema = @Schema(type = "integer", minimum = "1", maximum = "100", defaultValue = "20"))
	@Parameter(name = "sort", in = ParameterIn.QUERY,
			description = "Sort key; a - prefix or a ,desc suffix sorts descending. Ties are broken by id, "
					+ "in the same direction.",
			schema = @Schema(type = "string", defaultValue = "id",
					allowableValues = { "id", "-id", "name", "-name", "price", "-price", "created_at", "-created_at",
							"updated_at", "-updated_at", "id,desc", "name,desc", "price,desc", "created_at,desc",
							"updated_at,desc", "id,asc", "name,asc", "price,asc", "created_at,asc", "updated_at,asc" }),
			example = "-price")
	@Parameter(name = "q", in = ParameterIn.QUERY, description = "Text the name contains, ignoring case",
			schema = @Schema(type = "string", maxLength = 200), example = "cup")
	@Parameter(name = "name", in = ParameterIn.QUERY, description = "The exact name, ignoring case",
			schema = @Schema(type = "string", minLength = 1, maxLength = 200), example = "Espresso cup")
	@Parameter(name = "min_price", in = ParameterIn.QUERY, description = "Lowest price, inclusive",
			schema = @Schema(type = "string", pattern = "^[0-9]{1,15}(\\.[0-9]{1,2})?$"), example = "10.00")
	@Parameter(name = "max_price", in = ParameterIn.QUERY, description = "Highest price, inclusive",
			schema = @Schema(type = "string", pattern = "^[0-9]{1,15}(\\.[0-9]{1,2})?$"), example = "20")
	@Parameter(name = "in_stock", in = ParameterIn.QUERY,
			description = "true: only products with stock_quantity > 0; false: only those with 0",
			schema = @Schema(type = "boolean"))
	@ApiResponse(responseCode = "200", description = "A page of products",
			headers = {
					@Header(name = CACHE_HEADER, description = X_CACHE_DESCRIPTION,
							schema = @Schema(type = "string", allowableValues = { "HIT", "MISS", "BYPASS" })),
					@Header(name = HttpHeaders.LINK,
							description = "RFC 8288 links: first, last, and prev/next " + "where such a page exists",
							schema = @Schema(type = "string")),
					@Header(name = HttpHeaders.CACHE_CONTROL, description = "How long the answer may be reused",
							schema = @Schema(type = "string")) },
			content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
					schema = @Schema(implementation = ProductPage.class),
					examples = @ExampleObject(value = "{\"items\":[" + PRODUCT_EXAMPLE
							+ "],\"page\":0,\"size\":20,\"total_items\":1,\"total_pages\":1}")))
	@ApiResponse(responseCode = "400", ref = "#/components/responses/InvalidParameters")
	@ApiResponse(responseCode = "500", ref = "#/components/responses/InternalError")
	@ApiResponse(responseCode = "503", ref = "#/components/responses/DatabaseUnavailable")
	@GetMapping(produces = MediaType.APPLICATION_JSON_VALUE)
	ResponseEntity<byte[]> list(@Parameter(hidden = true) @RequestParam MultiValueMap<String, String> parameters) {
		ProductPageCache.Page page = this.service.findPage(ProductQuery.from(parameters));
		return ResponseEntity.ok()
			.contentType(MediaType.APPLICATION_JSON)
			.header(CACHE_HEADER, page.source().name())
			.header(HttpHeaders.LINK, page.links())
			.header(HttpHeaders.CACHE_CONTROL, this.properties.cacheControl())
			.body(page.body());
	}

	@Operation(summary = "Create a product", security = @SecurityRequirement(name = "apiKey"))
	@io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(
			mediaType = MediaType.APPLICATION_JSON_VALUE,
			schema = @Schema(implementation = ProductRequest.class,
					requiredProperties = { "name", "price", "stock_quantity" }),
			examples = @ExampleObject(value = """
					{"name":"Espresso cup","description":"Porcelain, 90 ml","price":12.50,"stock_quantity":40}""")))
	@ApiResponse(responseCode = "201", description = "Created", headers = {
			@Header(name = HttpHeaders.LOCATION, description = "The new product's URL",
					schema = @Schema(type = "string", example = "/products/1")),
			@Header(name = HttpHeaders.ETAG, description = ETAG_DESCRIPTION, schema = @Schema(type = "string")) },
			content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
					schema = @Schema(implementation = ProductResponse.class),
					examples = @ExampleObject(value = PRODUCT_EXAMPLE)))
	@ApiResponse(responseCode = "400", ref = "#/components/responses/InvalidBody")
	@ApiResponse(responseCode = "401", ref = "#/components/responses/Unauthorized")
	@ApiResponse(responseCode = "413", ref = "#/components/responses/BodyTooLarge")
	@ApiResponse(responseCode = "415", ref = "#/components/responses/UnsupportedMediaType")
	@ApiResponse(responseCode = "500", ref = "#/components/responses/InternalError")
	@ApiResponse(responseCode = "503", ref = "#/components/responses/DatabaseUnavailable")
	@PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
	ResponseEntity<ProductResponse> create(
			@Validated({ ProductRequest.OnCreate.class, Default.class }) @RequestBody ProductRequest request) {
		ProductResponse created = this.service.create(request);
		return ResponseEntity.created(URI.create("/products/" + created.id()))
			.eTag(entityTag(created.version()))
			.body(created);
	}

	@Operation(summary = "Read a product",
			description = "With If-None-Match naming the current ETag, the answer is 304 without a body, "
					+ "served from the cache on a hit.")
	@Parameter(name = HttpHeaders.IF_NONE_MATCH, in = ParameterIn.HEADER,
			description = "ETags the client holds; 304 if the current one is among them",
			schema = @Schema(type = "string"), example = "\"0\"")
	@ApiResponse(responseCode = "200", description = "The product",
			headers = {
					@Header(name = CACHE_HEADER, description = X_CACHE_DESCRIPTION,
							schema = @Schema(type = "string", allowableValues = { "HIT", "MISS", "BYPASS" })),
					@Header(name = HttpHeaders.ETAG, description = ETAG_DESCRIPTION, schema = @Schema(type = "string")),
					@Header(name = HttpHeaders.CACHE_CONTROL, description = "How long the answer may be reused",
							schema = @Schema(type = "string")) },
			content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
					schema = @Schema(implementation = ProductResponse.class),
					examples = @ExampleObject(value = PRODUCT_EXAMPLE)))
	@ApiResponse(responseCode = "304", description = "Not modified: the ETag in If-None-Match is current", headers = {
			@Header(name = CACHE_HEADER, description = X_CACHE_DESCRIPTION,
					schema = @Schema(type = "string", allowableValues = { "HIT", "MISS", "BYPASS" })),
			@Header(name = HttpHeaders.ETAG, description = ETAG_DESCRIPTION, schema = @Schema(type = "string")) })
	@ApiResponse(responseCode = "400", ref = "#/components/responses/InvalidId")
	@ApiResponse(responseCode = "404", ref = "#/components/responses/NotFound")
	@ApiResponse(responseCode = "500", ref = "#/components/responses/InternalError")
	@ApiResponse(responseCode = "503", ref = "#/components/responses/DatabaseUnavailable")
	@GetMapping(path = "/{id}", produces = MediaType.APPLICATION_JSON_VALUE)
	ResponseEntity<byte[]> get(@Parameter(description = "The product id", example = "1") @PathVariable String id) {
		ProductService.CachedJson product = this.service.findJson(productId(id));
		// Spring answers 304 itself when If-None-Match names this ETag.
		return ResponseEntity.ok()
			.contentType(MediaType.APPLICATION_JSON)
			.eTag(entityTag(product.version()))
			.header(CACHE_HEADER, product.source().name())
			.header(HttpHeaders.CACHE_CONTROL, this.properties.cacheControl())
			.body(product.json());
	}

	@Operation(summary = "Update some fields of a product",
			description = "Fields that are absent or null keep their values; \"description\": \"\" removes the "
					+ "description. With If-Match, the update is refused (412) if the product has changed since.",
			security = @SecurityRequirement(name = "apiKey"))
	@Parameter(name = HttpHeaders.IF_MATCH, in = ParameterIn.HEADER,
			description = "Update only if the product's ETag is one of these (or *)", schema = @Schema(type = "string"),
			example = "\"0\"")
	@io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(
			mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = ProductRequest.class),
			examples = @ExampleObject(value = "{\"price\":99.99}")))
	@ApiResponse(responseCode = "200", description = "The updated product",
			headers = @Header(name = HttpHeaders.ETAG, description = ETAG_DESCRIPTION,
					schema = @Schema(type = "string")),
			content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
					schema = @Schema(implementation = ProductResponse.class)))
	@ApiResponse(responseCode = "400", ref = "#/components/responses/InvalidBody")
	@ApiResponse(responseCode = "401", ref = "#/components/responses/Unauthorized")
	@ApiResponse(responseCode = "404", ref = "#/components/responses/NotFound")
	@ApiResponse(responseCode = "409", ref = "#/components/responses/Conflict")
	@ApiResponse(responseCode = "412", ref = "#/components/responses/PreconditionFailed")
	@ApiResponse(responseCode = "413", ref = "#/components/responses/BodyTooLarge")
	@ApiResponse(responseCode = "415", ref = "#/components/responses/UnsupportedMediaType")
	@ApiResponse(responseCode = "500", ref = "#/components/responses/InternalError")
	@ApiResponse(responseCode = "503", ref = "#/components/responses/DatabaseUnavailable")
	@PutMapping(path = "/{id}", consumes = MediaType.APPLICATION_JSON_VALUE,
			produces = MediaType.APPLICATION_JSON_VALUE)
	ResponseEntity<ProductResponse> update(
			@Parameter(description = "The product id", example = "1") @PathVariable String id,
			@Parameter(hidden = true) @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) String ifMatch,
			@Valid @RequestBody ProductRequest changes) {
		long productId = productId(id);
		if (changes.changesNothing()) {
			throw new ResponseStatusException(HttpStatus.BAD_REQUEST,
					"The body names no field to change: use name, description, price or stock_quantity");
		}
		return written(this.service.update(productId, changes, versionMatcher(ifMatch)));
	}

	@Operation(summary = "Change a product with a JSON merge patch (RFC 7396)",
			description = "A member changes that field; null removes the description and is refused for name, "
					+ "price and stock_quantity; absent members keep their values. Validated like PUT. "
					+ "With If-Match, refused (412) if the product has changed since.",
			security = @SecurityRequirement(name = "apiKey"))
	@Parameter(name = HttpHeaders.IF_MATCH, in = ParameterIn.HEADER,
			description = "Change only if the product's ETag is one of these (or *)", schema = @Schema(type = "string"),
			example = "\"0\"")
	@io.swagger.v3.oas.annotations.parameters.RequestBody(
			content = @Content(mediaType = MERGE_PATCH_JSON, schema = @Schema(implementation = ProductRequest.class),
					examples = @ExampleObject(value = "{\"price\":11.99,\"description\":null}")))
	@ApiResponse(responseCode = "200", description = "The changed product",
			headers = @Header(name = HttpHeaders.ETAG, description = ETAG_DESCRIPTION,
					schema = @Schema(type = "string")),
			content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
					schema = @Schema(implementation = ProductResponse.class)))
	@ApiResponse(responseCode = "400", ref = "#/components/responses/InvalidBody")
	@ApiResponse(responseCode = "401", ref = "#/components/responses/Unauthorized")
	@ApiResponse(responseCode = "404", ref = "#/components/responses/NotFound")
	@ApiResponse(responseCode = "409", ref = "#/components/responses/Conflict")
	@ApiResponse(responseCode = "412", ref = "#/components/responses/PreconditionFailed")
	@ApiResponse(responseCode = "413", ref = "#/components/responses/BodyTooLarge")
	@ApiResponse(responseCode = "415", ref = "#/components/responses/UnsupportedMediaType")
	@ApiResponse(responseCode = "500", ref = "#/components/responses/InternalError")
	@ApiResponse(responseCode = "503", ref = "#/components/responses/DatabaseUnavailable")
	@PatchMapping(path = "/{id}", consumes = MERGE_PATCH_JSON, produces = MediaType.APPLICATION_JSON_VALUE)
	ResponseEntity<ProductResponse> patch(
			@Parameter(description = "The product id", example = "1") @PathVariable String id,
			@Parameter(hidden = true) @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) String ifMatch,
			@Parameter(hidden = true) @RequestBody JsonNode patch, HttpServletRequest request) {
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
		return written(this.service.update(productId, changes, versionMatcher(ifMatch)));
	}

	@Operation(summary = "Delete a product",
			description = "With If-Match, refused (412) if the product has changed since.",
			security = @SecurityRequirement(name = "apiKey"))
	@Parameter(name = HttpHeaders.IF_MATCH, in = ParameterIn.HEADER,
			description = "Delete only if the product's ETag is one of these (or *)", schema = @Schema(type = "string"),
			example = "\"0\"")
	@ApiResponse(responseCode = "204", description = "Deleted")
	@ApiResponse(responseCode = "400", ref = "#/components/responses/InvalidId")
	@ApiResponse(responseCode = "401", ref = "#/components/responses/Unauthorized")
	@ApiResponse(responseCode = "404", ref = "#/components/responses/NotFound")
	@ApiResponse(responseCode = "409", ref = "#/components/responses/Conflict")
	@ApiResponse(responseCode = "412", ref = "#/components/responses/PreconditionFailed")
	@ApiResponse(responseCode = "500", ref = "#/components/responses/InternalError")
	@ApiResponse(responseCode = "503", ref = "#/components/responses/DatabaseUnavailable")
	@DeleteMapping("/{id}")
	ResponseEntity<Void> delete(@Parameter(description = "The product id", example = "1") @PathVariable String id,
			@Parameter(hidden = true) @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) String ifMatch) {
		this.service.delete(productId(id), versionMatcher(ifMatch));
		return ResponseEntity.noContent().build();
	}

	private static ResponseEntity<ProductResponse> written(ProductResponse product) {
		return ResponseEntity.ok().eTag(entityTag(product.version())).body(product);
	}

	// Strong: the bytes of a product's JSON are the same for one version, wherever they
	// come from (the cache or the database).
	private static String entityTag(long version) {
		return "\"" + version + "\"";
	}

	// If-Match compares strongly (RFC 9110, 13.1.1): a weak tag never matches, nor does
	// one this service did not make.
	private static LongPredicate versionMatcher(String ifMatch) {
		if (ifMatch == null) {
			return null;
		}
		if (ifMatch.strip().equals("*")) {
			return (version) -> true;
		}
		Set<Long> versions = new HashSet<>();
		for (String tag : ifMatch.split(",")) {
			Matcher version = STRONG_VERSION_TAG.matcher(tag.strip());
			if (version.matches()) {
				versions.add(Long.parseLong(version.group(1)));
			}
		}
		return versions::contains;
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
