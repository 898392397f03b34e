package com.example.catalog.web;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.swagger.v3.core.jackson.ModelResolver;
import io.swagger.v3.core.util.Json31;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.examples.Example;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.ArraySchema;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.headers.Header;
import io.swagger.v3.oas.models.security.SecurityScheme;
import io.swagger.v3.oas.models.servers.Server;
import io.swagger.v3.oas.models.tags.Tag;
import org.springdoc.core.customizers.OpenApiCustomizer;

import org.springframework.context.annotation.Bean;
import org.springframework.http.HttpHeaders;
import org.springframework.context.annotation.Configuration;

/**
 * What the OpenAPI document at {@code /v3/api-docs} says beyond the controllers'
 * annotations: the API key scheme, the problem+json errors (defined once here and
 * referred to by every operation that can answer with them), the server, and what
 * annotations cannot say. The document is checked by tools we did not write in
 * {@code .ci/contract.sh}.
 */
@Configuration(proxyBeanMethods = false)
class ApiDocumentation {

	private static final String PROBLEM_JSON = "application/problem+json";

	// Tomcat refuses a request line over 8 KB (server.max-http-request-header-size).
	private static final int MAX_URL = 8192;

	// A detail echoes at most one unknown field name of a 64 KB body, or at most 20
	// parameter names of an 8 KB URL (product/ProductQuery).
	private static final int MAX_DETAIL = 70_000;

	/**
	 * Schemas in the JSON's snake_case. springdoc describes classes with swagger-core's
	 * own Jackson 2 mapper, which does not see the naming strategy the service's Jackson
	 * 3 mapper has ({@code spring.jackson.property-naming-strategy}).
	 */
	@Bean
	ModelResolver snakeCaseSchemas() {
		return new ModelResolver(Json31.mapper().copy().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE))
			.openapi31(true);
	}

	/**
	 * What the annotations cannot say. A 204 or 304 has no body, but springdoc gives
	 * every response the mapping's produces type. {@code @Size(max)} adds a
	 * {@code minLength} of 0, which says nothing and makes test generators expect "" to
	 * be refused. The server is the configured one, or none: springdoc would list the
	 * address of the request that asked for the document, and an OpenAPI document without
	 * servers means that one anyway.
	 */
	@Bean
	@SuppressWarnings({ "rawtypes", "unchecked" })
	OpenApiCustomizer truthfulDocument(ApiProperties api) {
		return (openApi) -> {
			openApi.setServers(api.serverUrl() == null || api.serverUrl().isEmpty() ? null
					: List.of(new Server().url(api.serverUrl()).description(api.serverDescription())));
			openApi.getPaths()
				.values()
				.forEach((path) -> path.readOperations()
					.forEach((operation) -> operation.getResponses().forEach((status, response) -> {
						if (status.equals("204") || status.equals("304")) {
							response.setContent(null);
						}
					})));
			Map<String, Schema> schemas = openApi.getComponents().getSchemas();
			schemas.values().forEach(ApiDocumentation::dropEmptyMinLength);
			for (String product : List.of("ProductRequest", "ProductResponse")) {
				Map<String, Schema> fields = schemas.get(product).getProperties();
				fields.get("name").setPattern(NAME_PATTERN);
				fields.get("description").setPattern(DESCRIPTION_PATTERN);
				// 15 digits before the point; as a double (the annotations' type)
				// 999999999999999.99 would become 10^15.
				fields.get("price").setExclusiveMaximumValue(new BigDecimal("1e15"));
			}
		};
	}

	/**
	 * The rules of product/ProductRequest's names and descriptions as ECMA-262 patterns,
	 * the dialect of JSON Schema: Java's nested character classes read otherwise there,
	 * JavaScript knows \p{..} only with the u flag (which some tools leave off), and a
	 * JSON Schema pattern is not anchored. Each reads the same with or without the u
	 * flag: a surrogate pair is allowed, a lone surrogate is not. Characters beyond the
	 * Basic Multilingual Plane are all allowed here, although the service refuses the few
	 * format characters among them.
	 */
	static final String NAME_PATTERN = withoutCharacters(
			(c) -> (Character.getType(c) == Character.CONTROL || Character.getType(c) == Character.FORMAT)
					&& c != 0x200C && c != 0x200D);

	static final String DESCRIPTION_PATTERN = withoutCharacters(
			(c) -> c <= 0x08 || c == 0x0B || c == 0x0C || (c >= 0x0E && c <= 0x1F) || (c >= 0x7F && c <= 0x9F));

	private static String withoutCharacters(IntPredicate refused) {
		StringBuilder ranges = new StringBuilder();
		for (int c = 0; c <= 0xFFFF; c++) {
			if (!refused.test(c) || Character.isSurrogate((char) c)) {
				continue;
			}
			int last = c;
			while (last < 0xFFFF && refused.test(last + 1)) {
				last++;
			}
			ranges.append(String.format("\\u%04X", c));
			if (last > c) {
				ranges.append(String.format("-\\u%04X", last));
			}
			c = last;
		}
		return "^(?:[^" + ranges + "\\uD800-\\uDFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])*$";
	}

	@SuppressWarnings({ "rawtypes", "unchecked" })
	private static void dropEmptyMinLength(Schema schema) {
		if (schema.getMinLength() != null && schema.getMinLength() == 0) {
			schema.setMinLength(null);
		}
		if (schema.getProperties() != null) {
			((Map<String, Schema>) schema.getProperties()).values().forEach(ApiDocumentation::dropEmptyMinLength);
		}
	}

	@Bean
	OpenAPI catalogOpenApi() {
		Components components = new Components()
			.addSecuritySchemes("apiKey",
					new SecurityScheme().type(SecurityScheme.Type.APIKEY)
						.in(SecurityScheme.In.HEADER)
						.name("X-API-Key")
						.description("Needed by POST, PUT, PATCH and DELETE when the service runs with API_KEY set; "
								+ "reads never need it"))
			.addSchemas("Problem", problemSchema());
		problem(components, "InvalidParameters", 400,
				"A query parameter is unknown, repeated or invalid; each is named", "Invalid query parameter",
				"Invalid query parameters: size must be a whole number from 1 to 100",
				List.of(orderedMap("parameter", "size", "message", "must be a whole number from 1 to 100")));
		problem(components, "InvalidBody", 400,
				"The body breaks a field rule (errors names each field), is not well-formed or strictly typed JSON, "
						+ "names an unknown field, is not UTF-8, or changes nothing",
				"Validation failed", "Invalid fields: price must be greater than or equal to 0.00",
				List.of(orderedMap("field", "price", "message", "must be greater than or equal to 0.00")));
		problem(components, "InvalidId", 400, "The id is not a plain positive decimal", "Bad Request",
				"Product id must be a positive whole number", null);
		problem(components, "Unauthorized", 401, "API_KEY is set and X-API-Key is missing or wrong", "Unauthorized",
				"Writes need a valid API key in the X-API-Key header", null);
		problem(components, "NotFound", 404, "No product has this id", "Product not found", "No product with id 42",
				null);
		problem(components, "PreconditionFailed", 412, "The product's ETag no longer matches If-Match",
				"Precondition Failed",
				"The product has changed since the version given in If-Match; read it again (GET) and retry with its ETag",
				null);
		problem(components, "RequestTimeout", 408,
				"The body did not arrive within BODY_READ_TIMEOUT (10 s); the connection is closed", "Request Timeout",
				"The body took longer than 10 s to arrive", null);
		problem(components, "TooManyRequests", 429,
				"This client address sent too many wrong API keys (API_KEY_FAILURES_PER_MINUTE; then every write is "
						+ "refused) or asked for too many products that do not exist (NOT_FOUND_PER_SECOND; then every "
						+ "request to /products/{id} is refused) lately. Retry-After says when to retry",
				"Too Many Requests", "Too many requests for products that do not exist; retry later", null);
		retryAfter(components.getResponses().get("TooManyRequests"), 60,
				"Seconds until this address may try again: at most 60 after wrong keys, 1 after missing ids");
		problem(components, "BodyTooLarge", 413, "The body is larger than 64 KB", "Content Too Large",
				"The body is larger than 64KB", null);
		problem(components, "UnsupportedMediaType", 415,
				"The Content-Type is not application/json (application/merge-patch+json for PATCH)",
				"Unsupported Media Type", "Content-Type 'text/plain' is not supported.", null);
		problem(components, "DatabaseUnavailable", 503,
				"The database is locked or unreachable, or Redis is unavailable and the database already serves as "
						+ "many reads as it can (refused at once); nothing was changed. Carries Retry-After: 1",
				"Service Unavailable", "The database is busy or unavailable; nothing was changed, retry shortly", null);
		retryAfter(components.getResponses().get("DatabaseUnavailable"), 1, "Always 1");
		problem(components, "Unavailable", 503,
				"The database is locked or unreachable, or this client address is already sending "
						+ "BODY_READS_PER_CLIENT (32) bodies at once; nothing was changed. Carries Retry-After: 1",
				"Service Unavailable", "The database is busy or unavailable; nothing was changed, retry shortly", null);
		retryAfter(components.getResponses().get("Unavailable"), 1, "Always 1");
		problem(components, "PathParameters", 400, "The path has path parameters (;), which the API does not take",
				"Bad Request", "Path parameters (;) are not supported", null);
		components.addSchemas("Health", healthSchema());
		problem(components, "InternalError", 500, "An unexpected error; the details are in the service's log",
				"Internal Server Error", "An unexpected error occurred; it has been logged", null);
		return new OpenAPI()
			.tags(List.of(new Tag().name("Products").description("The product catalog"),
					new Tag().name("Health").description("The probe for load balancers and curl")))
			.info(new Info().title("product-catalog")
				.version("v1")
				.description("Products stored in SQLite or PostgreSQL, with Redis as a cache in front of reads. "
						+ "Bodies are JSON in snake_case; every error is RFC 9457 problem+json."))
			.components(components);
	}

	@SuppressWarnings("rawtypes")
	private static Schema problemSchema() {
		return new ObjectSchema().description("An RFC 9457 problem")
			.addProperty("type", new StringSchema()._enum(List.of("about:blank")))
			.addProperty("title", new StringSchema().maxLength(100))
			.addProperty("status",
					new IntegerSchema().format("int32")
						.minimum(BigDecimal.valueOf(400))
						.maximum(BigDecimal.valueOf(599)))
			.addProperty("detail", new StringSchema().maxLength(MAX_DETAIL))
			.addProperty("instance",
					new StringSchema().format("uri-reference").maxLength(MAX_URL).example("/products/42"))
			.addProperty("current_version",
					new IntegerSchema().format("int64")
						.minimum(BigDecimal.ZERO)
						.maximum(BigDecimal.valueOf(Long.MAX_VALUE))
						.description("412 only: the product's version now"))
			.addProperty("errors",
					new ArraySchema()
						.description("One entry per invalid body field or query parameter (400 only), at most 20")
						.maxItems(20)
						.items(new ObjectSchema().addProperty("field", new StringSchema().maxLength(100))
							.addProperty("parameter", new StringSchema().maxLength(MAX_URL))
							.addProperty("message", new StringSchema().maxLength(200))));
	}

	@SuppressWarnings("rawtypes")
	private static Schema healthSchema() {
		return new ObjectSchema().description("The service's state: ok while the database answers, whatever Redis does")
			.addProperty("status", new StringSchema()._enum(List.of("ok", "unavailable")))
			.addProperty("database", new StringSchema()._enum(List.of("up", "down")))
			.addProperty("cache",
					new StringSchema()._enum(List.of("up", "down"))
						.description("up once Redis has answered, down while it does not"))
			.required(List.of("status", "database", "cache"));
	}

	private static void retryAfter(ApiResponse response, int maximum, String description) {
		response.addHeaderObject(HttpHeaders.RETRY_AFTER, new Header().description(description)
			.schema(new IntegerSchema().format("int32").minimum(BigDecimal.ONE).maximum(BigDecimal.valueOf(maximum))));
	}

	private static Map<String, String> orderedMap(String key1, String value1, String key2, String value2) {
		Map<String, String> map = new LinkedHashMap<>();
		map.put(key1, value1);
		map.put(key2, value2);
		return map;
	}

	private static void problem(Components components, String name, int status, String description, String title,
			String detail, List<Map<String, String>> errors) {
		Map<String, Object> example = new LinkedHashMap<>();
		example.put("detail", detail);
		example.put("status", status);
		example.put("title", title);
		if (errors != null) {
			example.put("errors", errors);
		}
		components.addResponses(name,
				new ApiResponse().description(description)
					.content(new Content().addMediaType(PROBLEM_JSON,
							new MediaType().schema(new Schema<>().$ref("#/components/schemas/Problem"))
								.addExamples(name, new Example().value(example)))));
	}

}
