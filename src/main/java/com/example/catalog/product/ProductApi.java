package com.example.catalog.product;

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
import tools.jackson.databind.JsonNode;

import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.util.MultiValueMap;

/**
 * The OpenAPI description of the products resource, apart from {@link ProductController}
 * so that the controller's mappings read at a glance. springdoc reads these annotations
 * through the interface; what annotations cannot say is added in
 * {@code web/ApiDocumentation}.
 */
@Tag(name = "Products", description = "The product catalog")
interface ProductApi {

	String CACHE_HEADER = "X-Cache";

	String CACHE_COUNTS_HEADER = "X-Cache-Counts";

	String BATCH_X_CACHE_DESCRIPTION = "For a page: where the answer came from, HIT (Redis), MISS (the database, then "
			+ "stored in Redis) or BYPASS (the database; Redis not used). For a batch read (ids): HIT only when the "
			+ "cache answered every id, BYPASS when some were read without Redis, MISS otherwise";

	String CACHE_COUNTS_DESCRIPTION = "Batch reads (ids) only: how many of the distinct ids the cache answered (hit, "
			+ "remembered 404s included), how many were read from the database and stored (miss), and how many "
			+ "were read from the database without Redis (bypass)";

	String BATCH_ETAG_DESCRIPTION = "Batch reads (ids) only: a strong entity tag over the ids and their versions; "
			+ "send it in If-None-Match to revalidate the whole batch";

	String BATCH_ETAG_PATTERN = "^\"[0-9a-f]{32}\"$";

	String BATCH_ETAG_EXAMPLE = "\"\\\"4f1c9e3b2a7d6e5f8091a2b3c4d5e6f7\\\"\"";

	String MERGE_PATCH_JSON = "application/merge-patch+json";

	String X_CACHE_DESCRIPTION = "Where the answer came from: HIT (Redis, or this instance's near cache), MISS (the database, "
			+ "then stored in Redis), BYPASS (the database; Redis not used) or GUTTER (Redis unavailable; this "
			+ "instance's copy of a database read at most CACHE_GUTTER_TTL old)";

	String ETAG_DESCRIPTION = "The product's version as a strong entity tag, e.g. \"3\"";

	// springdoc reads an example as JSON where it can ("1" becomes the number 1):
	// a string example is written as a JSON string. This one is the header value
	// "0", quotes and all.
	String ETAG_EXAMPLE = "\"\\\"0\\\"\"";

	String ID_EXAMPLE = "\"1\"";

	String ID_PATTERN = "^[1-9][0-9]{0,18}$";

	String ETAG_PATTERN = "^\"[0-9]{1,19}\"$";

	String PRICE_PATTERN = "^[0-9]{1,15}(\\.[0-9]{1,2})?$";

	// Tomcat refuses request headers over 8 KB (server.max-http-request-header-size) with
	// 400.
	int MAX_HEADER = 8192;

	String PRODUCT_EXAMPLE = """
			{"id":1,"name":"Espresso cup","description":"Porcelain, 90 ml","price":12.50,"stock_quantity":40,\
			"created_at":"2026-11-23T10:14:46.581Z","updated_at":"2026-11-23T10:14:46.581Z","version":0}""";

	@Operation(summary = "List, search or look up products by name, or read a batch of products by id",
			description = "One page of the catalog, filtered and sorted. The Link header names the first, last, "
					+ "previous and next pages. Names are not unique: the lookup by name is the name filter. "
					+ "Unknown, repeated or malformed parameters are refused with 400, each one named. "
					+ "With ids (and no other parameter), a batch read: the products with those ids, in the order "
					+ "asked, each once, in the same envelope (one page holding them all), with not_found listing "
					+ "the ids no product has; an ETag over the ids and versions (If-None-Match: 304 when none "
					+ "changed) and X-Cache-Counts. Ids not found count against the client's budget of reads of "
					+ "missing products, like a 404 of GET /products/{id} (429 once it is spent).")
	@Parameter(name = "ids", in = ParameterIn.QUERY,
			description = "A batch read: 1 to 100 product ids, separated by commas, plain decimals (for example "
					+ "1,2,3); duplicates are answered once. Not to be combined with any other parameter.",
			// No example: Swagger UI fills examples into "Try it out", and this one
			// next to the list's others would make that request a 400.
			schema = @Schema(type = "string", pattern = "^[1-9][0-9]{0,18}(,[1-9][0-9]{0,18}){0,99}$",
					maxLength = 2000))
	@Parameter(name = HttpHeaders.IF_NONE_MATCH, in = ParameterIn.HEADER,
			description = "Batch reads (ids) only: the batch's ETag; 304 if none of its products changed",
			schema = @Schema(type = "string", maxLength = MAX_HEADER), example = BATCH_ETAG_EXAMPLE)
	@Parameter(name = "page", in = ParameterIn.QUERY, description = "0-based page number",
			schema = @Schema(type = "integer", format = "int32", minimum = "0", maximum = "1000000",
					defaultValue = "0"))
	@Parameter(name = "size", in = ParameterIn.QUERY, description = "Products per page",
			schema = @Schema(type = "integer", format = "int32", minimum = "1", maximum = "100", defaultValue = "20"))
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
			schema = @Schema(type = "string", pattern = PRICE_PATTERN, maxLength = 18), example = "\"10.00\"")
	@Parameter(name = "max_price", in = ParameterIn.QUERY, description = "Highest price, inclusive",
			schema = @Schema(type = "string", pattern = PRICE_PATTERN, maxLength = 18), example = "\"20\"")
	@Parameter(name = "in_stock", in = ParameterIn.QUERY,
			description = "true: only products with stock_quantity > 0; false: only those with 0",
			schema = @Schema(type = "boolean"))
	@ApiResponse(responseCode = "200", description = "A page of products, or the products of a batch read", headers = {
			@Header(name = CACHE_HEADER, description = BATCH_X_CACHE_DESCRIPTION,
					schema = @Schema(type = "string", allowableValues = { "HIT", "MISS", "BYPASS" })),
			@Header(name = HttpHeaders.LINK,
					description = "Pages only: RFC 8288 links, first, last, and prev/next where such a page "
							+ "exists (each URL keeps the filters: q and name are at most 200 characters)",
					schema = @Schema(type = "string", maxLength = 16384)),
			@Header(name = HttpHeaders.ETAG, description = BATCH_ETAG_DESCRIPTION,
					schema = @Schema(type = "string", pattern = BATCH_ETAG_PATTERN, maxLength = 34)),
			@Header(name = CACHE_COUNTS_HEADER, description = CACHE_COUNTS_DESCRIPTION,
					schema = @Schema(type = "string", pattern = "^hit=[0-9]{1,3}, miss=[0-9]{1,3}, bypass=[0-9]{1,3}$",
							maxLength = 40, example = "hit=48, miss=2, bypass=0")),
			@Header(name = HttpHeaders.CACHE_CONTROL, description = "How long the answer may be reused (CACHE_CONTROL)",
					schema = @Schema(type = "string", maxLength = 200)) },
			content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
					schema = @Schema(implementation = ProductPage.class),
					examples = @ExampleObject(value = "{\"items\":[" + PRODUCT_EXAMPLE
							+ "],\"page\":0,\"size\":20,\"total_items\":1,\"total_pages\":1}")))
	@ApiResponse(responseCode = "304",
			description = "Batch reads (ids) only: not modified, the ETag in If-None-Match is current",
			headers = {
					@Header(name = CACHE_HEADER, description = BATCH_X_CACHE_DESCRIPTION,
							schema = @Schema(type = "string", allowableValues = { "HIT", "MISS", "BYPASS" })),
					@Header(name = HttpHeaders.ETAG, description = BATCH_ETAG_DESCRIPTION,
							schema = @Schema(type = "string", pattern = BATCH_ETAG_PATTERN, maxLength = 34)),
					@Header(name = CACHE_COUNTS_HEADER, description = CACHE_COUNTS_DESCRIPTION,
							schema = @Schema(type = "string",
									pattern = "^hit=[0-9]{1,3}, miss=[0-9]{1,3}, bypass=[0-9]{1,3}$",
									maxLength = 40)) })
	@ApiResponse(responseCode = "400", ref = "#/components/responses/InvalidParameters")
	@ApiResponse(responseCode = "429", ref = "#/components/responses/TooManyRequests")
	@ApiResponse(responseCode = "500", ref = "#/components/responses/InternalError")
	@ApiResponse(responseCode = "503", ref = "#/components/responses/DatabaseUnavailable")
	ResponseEntity<byte[]> list(@Parameter(hidden = true) MultiValueMap<String, String> parameters,
			@Parameter(hidden = true) HttpServletRequest request);

	@Operation(summary = "Create a product",
			description = "name, price and stock_quantity are required; description is optional, and \"\" or null "
					+ "means none. The answer carries the new product, its URL (Location) and its ETag.",
			security = @SecurityRequirement(name = "apiKey"))
	@io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(
			mediaType = MediaType.APPLICATION_JSON_VALUE,
			schema = @Schema(implementation = ProductRequest.class,
					requiredProperties = { "name", "price", "stock_quantity" }),
			examples = @ExampleObject(value = """
					{"name":"Espresso cup","description":"Porcelain, 90 ml","price":12.50,"stock_quantity":40}""")))
	@ApiResponse(responseCode = "201", description = "Created",
			headers = {
					@Header(name = HttpHeaders.LOCATION, description = "The new product's URL",
							schema = @Schema(type = "string", pattern = "^/products/[1-9][0-9]{0,18}$", maxLength = 29,
									example = "/products/1")),
					@Header(name = HttpHeaders.ETAG, description = ETAG_DESCRIPTION,
							schema = @Schema(type = "string", pattern = ETAG_PATTERN, maxLength = 21)) },
			content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
					schema = @Schema(implementation = ProductResponse.class),
					examples = @ExampleObject(value = PRODUCT_EXAMPLE)))
	@ApiResponse(responseCode = "400", ref = "#/components/responses/InvalidBody")
	@ApiResponse(responseCode = "401", ref = "#/components/responses/Unauthorized")
	@ApiResponse(responseCode = "408", ref = "#/components/responses/RequestTimeout")
	@ApiResponse(responseCode = "413", ref = "#/components/responses/BodyTooLarge")
	@ApiResponse(responseCode = "415", ref = "#/components/responses/UnsupportedMediaType")
	@ApiResponse(responseCode = "429", ref = "#/components/responses/TooManyRequests")
	@ApiResponse(responseCode = "500", ref = "#/components/responses/InternalError")
	@ApiResponse(responseCode = "503", ref = "#/components/responses/Unavailable")
	ResponseEntity<ProductResponse> create(ProductRequest request);

	@Operation(summary = "Read a product",
			description = "With If-None-Match naming the current ETag, the answer is 304 without a body, "
					+ "served from the cache on a hit.")
	@Parameter(name = HttpHeaders.IF_NONE_MATCH, in = ParameterIn.HEADER,
			description = "ETags the client holds; 304 if the current one is among them",
			schema = @Schema(type = "string", maxLength = MAX_HEADER), example = ETAG_EXAMPLE)
	@ApiResponse(responseCode = "200", description = "The product", headers = {
			@Header(name = CACHE_HEADER, description = X_CACHE_DESCRIPTION,
					schema = @Schema(type = "string", allowableValues = { "HIT", "MISS", "BYPASS" })),
			@Header(name = HttpHeaders.ETAG, description = ETAG_DESCRIPTION,
					schema = @Schema(type = "string", pattern = ETAG_PATTERN, maxLength = 21)),
			@Header(name = HttpHeaders.CACHE_CONTROL, description = "How long the answer may be reused (CACHE_CONTROL)",
					schema = @Schema(type = "string", maxLength = 200)) },
			content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
					schema = @Schema(implementation = ProductResponse.class),
					examples = @ExampleObject(value = PRODUCT_EXAMPLE)))
	@ApiResponse(responseCode = "304", description = "Not modified: the ETag in If-None-Match is current",
			headers = {
					@Header(name = CACHE_HEADER, description = X_CACHE_DESCRIPTION,
							schema = @Schema(type = "string", allowableValues = { "HIT", "MISS", "BYPASS" })),
					@Header(name = HttpHeaders.ETAG, description = ETAG_DESCRIPTION,
							schema = @Schema(type = "string", pattern = ETAG_PATTERN, maxLength = 21)) })
	@ApiResponse(responseCode = "400", ref = "#/components/responses/InvalidId")
	@ApiResponse(responseCode = "404", ref = "#/components/responses/NotFound")
	@ApiResponse(responseCode = "429", ref = "#/components/responses/TooManyRequests")
	@ApiResponse(responseCode = "500", ref = "#/components/responses/InternalError")
	@ApiResponse(responseCode = "503", ref = "#/components/responses/DatabaseUnavailable")
	ResponseEntity<byte[]> get(@Parameter(description = "The product id", example = ID_EXAMPLE,
			schema = @Schema(type = "string", pattern = ID_PATTERN, maxLength = 19)) String id);

	@Operation(summary = "Update some fields of a product",
			description = "Fields that are absent or null keep their values; \"description\": \"\" removes the "
					+ "description. With If-Match, the update is refused (412) if the product has changed since.",
			security = @SecurityRequirement(name = "apiKey"))
	@Parameter(name = HttpHeaders.IF_MATCH, in = ParameterIn.HEADER,
			description = "Update only if the product's ETag is one of these (or *)",
			schema = @Schema(type = "string", maxLength = MAX_HEADER), example = ETAG_EXAMPLE)
	@io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(
			mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = ProductRequest.class),
			examples = @ExampleObject(value = "{\"price\":99.99}")))
	@ApiResponse(responseCode = "200", description = "The updated product",
			headers = @Header(name = HttpHeaders.ETAG, description = ETAG_DESCRIPTION,
					schema = @Schema(type = "string", pattern = ETAG_PATTERN, maxLength = 21)),
			content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
					schema = @Schema(implementation = ProductResponse.class)))
	@ApiResponse(responseCode = "400", ref = "#/components/responses/InvalidBody")
	@ApiResponse(responseCode = "401", ref = "#/components/responses/Unauthorized")
	@ApiResponse(responseCode = "404", ref = "#/components/responses/NotFound")
	@ApiResponse(responseCode = "408", ref = "#/components/responses/RequestTimeout")
	@ApiResponse(responseCode = "412", ref = "#/components/responses/PreconditionFailed")
	@ApiResponse(responseCode = "413", ref = "#/components/responses/BodyTooLarge")
	@ApiResponse(responseCode = "415", ref = "#/components/responses/UnsupportedMediaType")
	@ApiResponse(responseCode = "429", ref = "#/components/responses/TooManyRequests")
	@ApiResponse(responseCode = "500", ref = "#/components/responses/InternalError")
	@ApiResponse(responseCode = "503", ref = "#/components/responses/Unavailable")
	ResponseEntity<byte[]> update(
			@Parameter(description = "The product id", example = ID_EXAMPLE,
					schema = @Schema(type = "string", pattern = ID_PATTERN, maxLength = 19)) String id,
			@Parameter(hidden = true) String ifMatch, ProductRequest changes);

	@Operation(summary = "Change a product with a JSON merge patch (RFC 7396)",
			description = "A member changes that field; null removes the description and is refused for name, "
					+ "price and stock_quantity; absent members keep their values. Validated like PUT. "
					+ "With If-Match, refused (412) if the product has changed since.",
			security = @SecurityRequirement(name = "apiKey"))
	@Parameter(name = HttpHeaders.IF_MATCH, in = ParameterIn.HEADER,
			description = "Change only if the product's ETag is one of these (or *)",
			schema = @Schema(type = "string", maxLength = MAX_HEADER), example = ETAG_EXAMPLE)
	@io.swagger.v3.oas.annotations.parameters.RequestBody(
			content = @Content(mediaType = MERGE_PATCH_JSON, schema = @Schema(implementation = ProductRequest.class),
					examples = @ExampleObject(value = "{\"price\":11.99,\"description\":null}")))
	@ApiResponse(responseCode = "200", description = "The changed product",
			headers = @Header(name = HttpHeaders.ETAG, description = ETAG_DESCRIPTION,
					schema = @Schema(type = "string", pattern = ETAG_PATTERN, maxLength = 21)),
			content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
					schema = @Schema(implementation = ProductResponse.class)))
	@ApiResponse(responseCode = "400", ref = "#/components/responses/InvalidBody")
	@ApiResponse(responseCode = "401", ref = "#/components/responses/Unauthorized")
	@ApiResponse(responseCode = "404", ref = "#/components/responses/NotFound")
	@ApiResponse(responseCode = "408", ref = "#/components/responses/RequestTimeout")
	@ApiResponse(responseCode = "412", ref = "#/components/responses/PreconditionFailed")
	@ApiResponse(responseCode = "413", ref = "#/components/responses/BodyTooLarge")
	@ApiResponse(responseCode = "415", ref = "#/components/responses/UnsupportedMediaType")
	@ApiResponse(responseCode = "429", ref = "#/components/responses/TooManyRequests")
	@ApiResponse(responseCode = "500", ref = "#/components/responses/InternalError")
	@ApiResponse(responseCode = "503", ref = "#/components/responses/Unavailable")
	ResponseEntity<byte[]> patch(
			@Parameter(description = "The product id", example = ID_EXAMPLE,
					schema = @Schema(type = "string", pattern = ID_PATTERN, maxLength = 19)) String id,
			@Parameter(hidden = true) String ifMatch, @Parameter(hidden = true) JsonNode patch,
			HttpServletRequest request);

	@Operation(summary = "Delete a product",
			description = "With If-Match, refused (412) if the product has changed since.",
			security = @SecurityRequirement(name = "apiKey"))
	@Parameter(name = HttpHeaders.IF_MATCH, in = ParameterIn.HEADER,
			description = "Delete only if the product's ETag is one of these (or *)",
			schema = @Schema(type = "string", maxLength = MAX_HEADER), example = ETAG_EXAMPLE)
	@ApiResponse(responseCode = "204", description = "Deleted")
	@ApiResponse(responseCode = "400", ref = "#/components/responses/InvalidId")
	@ApiResponse(responseCode = "401", ref = "#/components/responses/Unauthorized")
	@ApiResponse(responseCode = "404", ref = "#/components/responses/NotFound")
	@ApiResponse(responseCode = "412", ref = "#/components/responses/PreconditionFailed")
	@ApiResponse(responseCode = "429", ref = "#/components/responses/TooManyRequests")
	@ApiResponse(responseCode = "500", ref = "#/components/responses/InternalError")
	@ApiResponse(responseCode = "503", ref = "#/components/responses/DatabaseUnavailable")
	ResponseEntity<Void> delete(
			@Parameter(description = "The product id", example = ID_EXAMPLE,
					schema = @Schema(type = "string", pattern = ID_PATTERN, maxLength = 19)) String id,
			@Parameter(hidden = true) String ifMatch);

}
