package com.example.catalog.web;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
import io.swagger.v3.oas.models.security.SecurityScheme;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * What the OpenAPI document at {@code /v3/api-docs} says beyond the controllers'
 * annotations: the API key scheme and the problem+json errors, defined once here and
 * referred to by every operation that can answer with them.
 */
@Configuration(proxyBeanMethods = false)
class ApiDocumentation {

	private static final String PROBLEM_JSON = "application/problem+json";

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
				List.of(Map.of("parameter", "size", "message", "must be a whole number from 1 to 100")));
		problem(components, "InvalidBody", 400,
				"The body breaks a field rule (errors names each field), is not well-formed or strictly typed JSON, "
						+ "names an unknown field, is not UTF-8, or changes nothing",
				"Validation failed", "Invalid fields: price must be greater than or equal to 0.00",
				List.of(Map.of("field", "price", "message", "must be greater than or equal to 0.00")));
		problem(components, "InvalidId", 400, "The id is not a plain positive decimal", "Bad Request",
				"Product id must be a positive whole number", null);
		problem(components, "Unauthorized", 401, "API_KEY is set and X-API-Key is missing or wrong", "Unauthorized",
				"Writes need a valid API key in the X-API-Key header", null);
		problem(components, "NotFound", 404, "No product has this id", "Product not found", "No product with id 42",
				null);
		problem(components, "Conflict", 409, "A concurrent update changed the product first; read it again and retry",
				"Conflict", "The product was changed by another request at the same time; read it again and retry",
				null);
		problem(components, "PreconditionFailed", 412, "The product's ETag no longer matches If-Match",
				"Precondition Failed",
				"The product has changed since the version given in If-Match; read it again (GET) and retry with its ETag",
				null);
		problem(components, "BodyTooLarge", 413, "The body is larger than 64 KB", "Content Too Large",
				"The body is larger than 64KB", null);
		problem(components, "UnsupportedMediaType", 415,
				"The Content-Type is not application/json (application/merge-patch+json for PATCH)",
				"Unsupported Media Type", "Content-Type 'text/plain' is not supported.", null);
		problem(components, "DatabaseUnavailable", 503,
				"The database is locked or unreachable; nothing was changed. Carries Retry-After: 1",
				"Service Unavailable", "The database is busy or unavailable; nothing was changed, retry shortly", null);
		problem(components, "InternalError", 500, "An unexpected error; the details are in the service's log",
				"Internal Server Error", "An unexpected error occurred; it has been logged", null);
		return new OpenAPI()
			.info(new Info().title("product-catalog")
				.version("v1")
				.description("Products stored in SQLite or PostgreSQL, with Redis as a cache in front of reads. "
						+ "Bodies are JSON in snake_case; every error is RFC 9457 problem+json."))
			.components(components);
	}

	@SuppressWarnings("rawtypes")
	private static Schema problemSchema() {
		return new ObjectSchema().description("An RFC 9457 problem")
			.addProperty("type", new StringSchema().example("about:blank"))
			.addProperty("title", new StringSchema())
			.addProperty("status", new IntegerSchema())
			.addProperty("detail", new StringSchema())
			.addProperty("instance", new StringSchema().example("/products/42"))
			.addProperty("errors",
					new ArraySchema().description("One entry per invalid body field or query parameter (400 only)")
						.items(new ObjectSchema().addProperty("field", new StringSchema())
							.addProperty("parameter", new StringSchema())
							.addProperty("message", new StringSchema())));
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
