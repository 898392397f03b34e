package com.example.catalog.web;

import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.security.SecurityScheme;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OpenAPI document the service serves: valid OpenAPI 3.1 for a real parser, listing
 * exactly the endpoints Spring MVC maps (so a new endpoint cannot go undocumented), with
 * the schemas in the JSON's snake_case, the cache and ETag headers, the problem+json
 * errors and the API key; and what tools found untrue in it before (issue #22): a null
 * description, unquoted ETag examples, refusals not declared, /health typed *&#47;*. The
 * tools themselves run in .ci/contract.sh.
 */
@IntegrationTest
class ApiDocumentationTests {

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
		registry.add("catalog.api.server-url", () -> "https://catalog.example.com");
		registry.add("catalog.api.server-description", () -> "staging");
	}

	@Autowired
	private RestTestClient http;

	private String document;

	private OpenAPI openApi;

	@BeforeEach
	void readDocument() {
		this.document = this.http.get()
			.uri("/v3/api-docs")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody(String.class)
			.returnResult()
			.getResponseBody();
		ParseOptions options = new ParseOptions();
		options.setResolve(true);
		options.setResolveFully(true);
		SwaggerParseResult result = new OpenAPIV3Parser().readContents(this.document, null, options);
		assertThat(result.getMessages()).as("parser messages").isEmpty();
		this.openApi = result.getOpenAPI();
	}

	@Test
	void isValidOpenApi31() {
		assertThat(this.openApi.getOpenapi()).startsWith("3.1");
		assertThat(this.openApi.getInfo().getTitle()).isEqualTo("product-catalog");
	}

	@Test
	void listsEveryEndpointTheServiceMapsAndNothingElse(
			@Autowired @Qualifier("requestMappingHandlerMapping") RequestMappingHandlerMapping mappings) {
		Set<String> mapped = new TreeSet<>();
		for (Map.Entry<RequestMappingInfo, HandlerMethod> mapping : mappings.getHandlerMethods().entrySet()) {
			if (mapping.getValue().getBeanType().getName().startsWith("org.springdoc")) {
				continue; // the document and Swagger UI themselves
			}
			Set<RequestMethod> methods = mapping.getKey().getMethodsCondition().getMethods();
			for (String path : mapping.getKey().getPatternValues()) {
				if (path.equals("/error")) {
					continue;
				}
				// A mapping without methods answers GET (and every other method).
				for (RequestMethod method : methods.isEmpty() ? Set.of(RequestMethod.GET) : methods) {
					mapped.add(method + " " + path);
				}
			}
		}
		Set<String> documented = new TreeSet<>();
		this.openApi.getPaths()
			.forEach((path, item) -> item.readOperationsMap()
				.keySet()
				.forEach((method) -> documented.add(method.name() + " " + path)));

		assertThat(documented).isEqualTo(mapped);
		assertThat(mapped).contains("GET /products", "POST /products", "GET /products/{id}", "PUT /products/{id}",
				"PATCH /products/{id}", "DELETE /products/{id}", "GET /health");
		assertThat(this.openApi.getPaths()).doesNotContainKey("/error");
	}

	@Test
	void describesBodiesInTheJsonsSnakeCase() {
		Map<String, Schema> schemas = this.openApi.getComponents().getSchemas();
		assertThat(schemas.get("ProductResponse").getProperties()).containsKeys("id", "name", "description", "price",
				"stock_quantity", "created_at", "updated_at", "version");
		assertThat(schemas.get("ProductPage").getProperties()).containsKeys("items", "page", "size", "total_items",
				"total_pages");
		assertThat(schemas.get("ProductRequest").getProperties()).containsKeys("name", "price", "stock_quantity");
		Operation create = operation("/products", PathItem.HttpMethod.POST);
		assertThat(create.getRequestBody().getContent().get("application/json").getSchema().getRequired())
			.containsExactlyInAnyOrder("name", "price", "stock_quantity");
	}

	@Test
	void describesTheCacheAndETagHeadersAndConditionalRequests() {
		Operation read = operation("/products/{id}", PathItem.HttpMethod.GET);
		assertThat(read.getResponses().get("200").getHeaders()).containsKeys("X-Cache", "ETag", "Cache-Control");
		assertThat(read.getResponses().get("304").getHeaders()).containsKeys("X-Cache", "ETag");
		assertThat(parameterNames(read)).contains("id", "If-None-Match");
		Operation list = operation("/products", PathItem.HttpMethod.GET);
		assertThat(list.getResponses().get("200").getHeaders()).containsKeys("X-Cache", "Link", "Cache-Control", "ETag",
				"X-Cache-Counts");
		assertThat(list.getResponses().get("304").getHeaders()).containsKeys("X-Cache", "ETag", "X-Cache-Counts");
		assertThat(parameterNames(list)).containsExactlyInAnyOrder("page", "size", "sort", "q", "name", "min_price",
				"max_price", "in_stock", "ids", "If-None-Match");
		for (PathItem.HttpMethod method : Set.of(PathItem.HttpMethod.PUT, PathItem.HttpMethod.PATCH,
				PathItem.HttpMethod.DELETE)) {
			Operation write = operation("/products/{id}", method);
			assertThat(parameterNames(write)).contains("If-Match");
			assertThat(write.getResponses()).containsKeys("412", "404");
		}
		assertThat(operation("/products/{id}", PathItem.HttpMethod.PATCH).getRequestBody().getContent())
			.containsOnlyKeys("application/merge-patch+json");
	}

	@Test
	void describesEveryErrorAsProblemJsonWithAnExample() {
		this.openApi.getPaths().forEach((path, item) -> item.readOperationsMap().forEach((method, operation) -> {
			if (path.startsWith("/products")) {
				assertThat(operation.getResponses()).as(method + " " + path).containsKeys("500", "503");
			}
			operation.getResponses().forEach((status, response) -> {
				if (path.equals("/health") && status.equals("503")) {
					return; // the health body, as on 200
				}
				if (status.startsWith("4") || status.startsWith("5")) {
					assertThat(response.getContent()).as(method + " " + path + " " + status)
						.containsKey("application/problem+json");
					assertThat(response.getContent().get("application/problem+json").getExamples()).isNotEmpty();
				}
			});
		}));
	}

	@Test
	void describesTheApiKeyOnWrites() {
		SecurityScheme apiKey = this.openApi.getComponents().getSecuritySchemes().get("apiKey");
		assertThat(apiKey.getType()).isEqualTo(SecurityScheme.Type.APIKEY);
		assertThat(apiKey.getIn()).isEqualTo(SecurityScheme.In.HEADER);
		assertThat(apiKey.getName()).isEqualTo("X-API-Key");
		for (PathItem.HttpMethod method : Set.of(PathItem.HttpMethod.PUT, PathItem.HttpMethod.PATCH,
				PathItem.HttpMethod.DELETE)) {
			assertThat(operation("/products/{id}", method).getSecurity()).as(method.name())
				.anySatisfy((requirement) -> assertThat(requirement).containsKey("apiKey"));
		}
		assertThat(operation("/products", PathItem.HttpMethod.POST).getSecurity())
			.anySatisfy((requirement) -> assertThat(requirement).containsKey("apiKey"));
		assertThat(operation("/products/{id}", PathItem.HttpMethod.GET).getSecurity()).isNullOrEmpty();
	}

	@Test
	void servesSwaggerUi() {
		this.http.get()
			.uri("/swagger-ui.html")
			.exchange()
			.expectStatus()
			.is3xxRedirection()
			.expectHeader()
			.value("Location", (location) -> assertThat(location).endsWith("/swagger-ui/index.html"));
		String page = this.http.get()
			.uri("/swagger-ui/index.html")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody(String.class)
			.returnResult()
			.getResponseBody();
		assertThat(page.toLowerCase(Locale.ROOT)).contains("swagger-ui");
	}

	@Test
	void describesANullDescriptionAsNullAndTheEmptyOneAsNoDescription() {
		Map<String, Schema> schemas = this.openApi.getComponents().getSchemas();
		for (String name : Set.of("ProductResponse", "ProductRequest")) {
			Schema description = (Schema) schemas.get(name).getProperties().get("description");
			assertThat(description.getTypes()).as(name).containsExactlyInAnyOrder("string", "null");
			assertThat(description.getMinLength()).as(name + ": \"\" is allowed").isNull();
		}
		assertThat(((Schema) schemas.get("ProductRequest").getProperties().get("description")).getDescription())
			.contains("\"\"")
			.contains("null");
		assertThat(schemas.get("ProductResponse").getRequired()).contains("description");
	}

	@Test
	void givesExamplesThatWorkAsWritten() {
		for (PathItem.HttpMethod method : Set.of(PathItem.HttpMethod.PUT, PathItem.HttpMethod.PATCH,
				PathItem.HttpMethod.DELETE)) {
			assertThat(parameter(operation("/products/{id}", method), "If-Match").getExample()).as(method.name())
				.isEqualTo("\"0\"");
		}
		Operation read = operation("/products/{id}", PathItem.HttpMethod.GET);
		assertThat(parameter(read, "If-None-Match").getExample()).isEqualTo("\"0\"");
		assertThat(parameter(read, "id").getExample()).isEqualTo("1");
		Operation list = operation("/products", PathItem.HttpMethod.GET);
		assertThat(parameter(list, "min_price").getExample()).isEqualTo("10.00");
		// Swagger UI would send it with the other examples in "Try it out": a 400.
		assertThat(parameter(list, "ids").getExample()).isNull();
		assertThat(parameter(list, "ids").getDescription()).contains("1,2,3");
		// The name rule as an ECMA-262 pattern (JSON Schema's dialect), not Java's.
		String pattern = ((Schema) this.openApi.getComponents()
			.getSchemas()
			.get("ProductRequest")
			.getProperties()
			.get("name")).getPattern();
		assertThat(pattern).startsWith("^").endsWith("$").doesNotContain("\\p{");
		assertThat("Espresso cup").matches(pattern);
		assertThat("a\u202Eb").doesNotMatch(pattern);
	}

	@Test
	void declaresEveryRefusalTheServiceSends() {
		Set<String> withBody = Set.of("POST /products", "PUT /products/{id}", "PATCH /products/{id}");
		Set<String> throttled = Set.of("POST /products", "GET /products", "GET /products/{id}", "PUT /products/{id}",
				"PATCH /products/{id}", "DELETE /products/{id}");
		this.openApi.getPaths().forEach((path, item) -> item.readOperationsMap().forEach((method, operation) -> {
			String name = method + " " + path;
			Map<String, ApiResponse> responses = operation.getResponses();
			if (withBody.contains(name)) {
				assertThat(responses).as(name).containsKeys("408", "413", "415");
			}
			if (throttled.contains(name)) {
				assertThat(responses).as(name).containsKey("429");
				assertThat(responses.get("429").getHeaders()).as(name).containsKey("Retry-After");
			}
			else {
				assertThat(responses).as(name + " is never throttled").doesNotContainKey("429");
			}
			if (path.startsWith("/products")) {
				assertThat(responses.get("503").getHeaders()).as(name).containsKey("Retry-After");
			}
		}));
	}

	@Test
	void describesHealthAsJsonAndBodilessAnswersWithoutABody() {
		Operation health = operation("/health", PathItem.HttpMethod.GET);
		assertThat(health.getResponses().get("200").getContent()).containsOnlyKeys("application/json");
		assertThat(health.getResponses().get("503").getContent()).containsOnlyKeys("application/json");
		assertThat(operation("/products/{id}", PathItem.HttpMethod.GET).getResponses().get("304").getContent())
			.isNullOrEmpty();
		assertThat(operation("/products/{id}", PathItem.HttpMethod.DELETE).getResponses().get("204").getContent())
			.isNullOrEmpty();
	}

	@Test
	void listsTheConfiguredServer() {
		assertThat(this.openApi.getServers()).singleElement().satisfies((server) -> {
			assertThat(server.getUrl()).isEqualTo("https://catalog.example.com");
			assertThat(server.getDescription()).isEqualTo("staging");
		});
	}

	private static Parameter parameter(Operation operation, String name) {
		return operation.getParameters()
			.stream()
			.filter((parameter) -> parameter.getName().equals(name))
			.findFirst()
			.orElseThrow();
	}

	private Operation operation(String path, PathItem.HttpMethod method) {
		Operation operation = this.openApi.getPaths().get(path).readOperationsMap().get(method);
		assertThat(operation).as(method + " " + path).isNotNull();
		return operation;
	}

	private static Set<String> parameterNames(Operation operation) {
		Set<String> names = new HashSet<>();
		if (operation.getParameters() != null) {
			operation.getParameters().forEach((parameter) -> names.add(parameter.getName()));
		}
		return names;
	}

}
