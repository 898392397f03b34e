package com.example.catalog.product;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import jakarta.persistence.EntityManagerFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.example.catalog.support.DatabaseStatements;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ETags, conditional reads and writes, and PATCH with a JSON merge patch, end to end: a
 * client that names the version it has gets a 304 for free, and a client that names the
 * version it changed never overwrites someone else's update.
 */
@IntegrationTest
class ProductConditionalRequestTests {

	private static final MediaType MERGE_PATCH = MediaType.valueOf("application/merge-patch+json");

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
	}

	@Autowired
	private RestTestClient http;

	@LocalServerPort
	private int port;

	private DatabaseStatements statements;

	@BeforeEach
	void countStatements(@Autowired EntityManagerFactory entityManagerFactory) {
		this.statements = new DatabaseStatements(entityManagerFactory);
	}

	@Test
	void everyAnswerWithAProductCarriesItsVersionAsETag() {
		String created = this.http.post()
			.uri("/products")
			.contentType(MediaType.APPLICATION_JSON)
			.body("{\"name\": \"Vase\", \"price\": 20.00, \"stock_quantity\": 2}")
			.exchange()
			.expectStatus()
			.isCreated()
			.returnResult()
			.getResponseHeaders()
			.getETag();
		assertThat(created).isEqualTo("\"0\"");
		long id = TestProducts.create(this.http, "Bowl", "8.00", 1);

		assertThat(read(id, "MISS")).isEqualTo("\"0\"");
		assertThat(read(id, "HIT")).isEqualTo("\"0\"");
		this.http.put()
			.uri("/products/{id}", id)
			.contentType(MediaType.APPLICATION_JSON)
			.body("{\"price\": 9.00}")
			.exchange()
			.expectStatus()
			.isOk()
			.expectHeader()
			.valueEquals("ETag", "\"1\"");
		this.http.patch()
			.uri("/products/{id}", id)
			.contentType(MERGE_PATCH)
			.body("{\"price\": 10.00}")
			.exchange()
			.expectStatus()
			.isOk()
			.expectHeader()
			.valueEquals("ETag", "\"2\"");
		assertThat(read(id, "HIT")).isEqualTo("\"2\"");
	}

	@Test
	void aConditionalReadOfTheCurrentVersionIsNotModifiedAndAnsweredFromTheCache() {
		long id = TestProducts.create(this.http, "Jug", "12.00", 1);
		read(id, "MISS");
		long before = this.statements.count();

		this.http.get()
			.uri("/products/{id}", id)
			.header("If-None-Match", "\"7\", \"0\"")
			.exchange()
			.expectStatus()
			.isNotModified()
			.expectHeader()
			.valueEquals("ETag", "\"0\"")
			.expectHeader()
			.valueEquals("X-Cache", "HIT")
			.expectHeader()
			.valueEquals("Cache-Control", "no-cache")
			.expectBody()
			.isEmpty();

		assertThat(this.statements.count()).isEqualTo(before);
		this.http.get()
			.uri("/products/{id}", id)
			.header("If-None-Match", "\"5\"")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.jsonPath("$.name")
			.isEqualTo("Jug");
	}

	@Test
	void aWriteWithAnOutdatedIfMatchIsRefusedAndChangesNothing() {
		long id = TestProducts.create(this.http, "Tray", "15.00", 1);
		update(id, "\"0\"", "{\"price\": 16.00}").expectStatus().isOk();

		update(id, "\"0\"", "{\"price\": 17.00}").expectStatus()
			.isEqualTo(412)
			.expectHeader()
			.contentType(MediaType.APPLICATION_PROBLEM_JSON)
			.expectBody()
			.jsonPath("$.title")
			.isEqualTo("Precondition Failed");
		this.http.patch()
			.uri("/products/{id}", id)
			.header("If-Match", "W/\"1\"")
			.contentType(MERGE_PATCH)
			.body("{\"price\": 17.00}")
			.exchange()
			.expectStatus()
			.isEqualTo(412);
		this.http.delete()
			.uri("/products/{id}", id)
			.header("If-Match", "\"0\"")
			.exchange()
			.expectStatus()
			.isEqualTo(412);

		assertThat(TestProducts.read(this.http, id).getResponseBody()).containsEntry("price", 16.0)
			.containsEntry("version", 1);
		update(id, "\"1\"", "{\"price\": 18.00}").expectStatus().isOk();
		update(id, "*", "{\"price\": 19.00}").expectStatus().isOk();
		this.http.delete()
			.uri("/products/{id}", id)
			.header("If-Match", "\"3\"")
			.exchange()
			.expectStatus()
			.isNoContent();
	}

	@Test
	void twoClientsUpdatingTheSameVersionAtOnceOneWinsTheOtherGets412() throws Exception {
		HttpClient client = HttpClient.newHttpClient();
		ExecutorService pool = Executors.newFixedThreadPool(8);
		try {
			for (int round = 0; round < 10; round++) {
				long id = TestProducts.create(this.http, "Raced", "1.00", 1);
				CountDownLatch start = new CountDownLatch(1);
				List<Future<HttpResponse<String>>> answers = new ArrayList<>();
				for (String price : List.of("2.00", "3.00")) {
					answers.add(pool.submit(() -> {
						start.await();
						return client.send(HttpRequest.newBuilder(URI.create(url("/products/" + id)))
							.header("Content-Type", "application/merge-patch+json")
							.header("If-Match", "\"0\"")
							.method("PATCH", HttpRequest.BodyPublishers.ofString("{\"price\": " + price + "}"))
							.build(), HttpResponse.BodyHandlers.ofString());
					}));
				}
				start.countDown();
				List<Integer> statuses = new ArrayList<>();
				String winner = null;
				for (Future<HttpResponse<String>> answer : answers) {
					HttpResponse<String> response = answer.get();
					statuses.add(response.statusCode());
					if (response.statusCode() == 200) {
						winner = response.body();
					}
				}
				assertThat(statuses).containsExactlyInAnyOrder(200, 412);
				// What the winner was told is what the product is: no update was lost.
				Map<String, Object> stored = TestProducts.read(this.http, id).getResponseBody();
				assertThat(winner).contains("\"price\":" + stored.get("price")).contains("\"version\":1");
				assertThat(stored).containsEntry("version", 1);
			}
		}
		finally {
			pool.shutdownNow();
		}
	}

	@Test
	void mergePatchChangesTheGivenFieldsAndNullRemovesTheDescription() {
		Map<String, Object> created = this.http.post()
			.uri("/products")
			.contentType(MediaType.APPLICATION_JSON)
			.body("{\"name\": \"Clock\", \"description\": \"Wall\", \"price\": 30.00, \"quantity\": 4}")
			.exchange()
			.expectBody(TestProducts.JSON_OBJECT)
			.returnResult()
			.getResponseBody();
		long id = ((Number) created.get("id")).longValue();

		this.http.patch()
			.uri("/products/{id}", id)
			.contentType(MERGE_PATCH)
			.body("{\"description\": null, \"quantity\": 9}")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.jsonPath("$.stock_quantity")
			.isEqualTo(9)
			.jsonPath("$.name")
			.isEqualTo("Clock")
			.jsonPath("$.price")
			.isEqualTo(30.0);
		assertThat(TestProducts.read(this.http, id).getResponseBody()).containsEntry("description", null)
			.containsEntry("stock_quantity", 9)
			.containsEntry("version", 1);
	}

	@ParameterizedTest
	@ValueSource(
			strings = { "{\"name\": null}", "{\"price\": null}", "{\"stock_quantity\": null}", "{\"quantity\": null}",
					"{\"price\": -1}", "{\"name\": \"\"}", "{\"price\": \"1\"}", "{\"colour\": \"red\"}", "{\"id\": 5}",
					"{}", "[]", "\"text\"", "{\"price\": 1.001}", "{\"name\": \"a\", }" })
	void refusesMergePatchesThatAreInvalidAndChangesNothing(String patch) {
		long id = TestProducts.create(this.http, "Stool", "25.00", 2);

		this.http.patch()
			.uri("/products/{id}", id)
			.contentType(MERGE_PATCH)
			.body(patch)
			.exchange()
			.expectStatus()
			.isBadRequest()
			.expectHeader()
			.contentType(MediaType.APPLICATION_PROBLEM_JSON);

		assertThat(TestProducts.read(this.http, id).getResponseBody()).containsEntry("version", 0)
			.containsEntry("name", "Stool")
			.containsEntry("price", 25.0);
	}

	@Test
	void mergePatchNamesEachInvalidFieldLikePut() {
		long id = TestProducts.create(this.http, "Shelf", "40.00", 1);

		this.http.patch()
			.uri("/products/{id}", id)
			.contentType(MERGE_PATCH)
			.body("{\"price\": -1, \"stock_quantity\": -2}")
			.exchange()
			.expectStatus()
			.isBadRequest()
			.expectBody()
			.jsonPath("$.title")
			.isEqualTo("Validation failed")
			.jsonPath("$.errors[*].field")
			.value((fields) -> assertThat(fields.toString()).contains("price", "stock_quantity"));
	}

	@Test
	void mergePatchBodiesGetTheSameSizeLimitAndContentTypeChecksAsOtherBodies() {
		long id = TestProducts.create(this.http, "Rug", "60.00", 1);

		this.http.patch()
			.uri("/products/{id}", id)
			.contentType(MERGE_PATCH)
			.body("{\"description\": \"" + "x".repeat(70_000) + "\"}")
			.exchange()
			.expectStatus()
			.isEqualTo(413);
		this.http.patch()
			.uri("/products/{id}", id)
			.contentType(MediaType.APPLICATION_JSON)
			.body("{\"price\": 1}")
			.exchange()
			.expectStatus()
			.isEqualTo(415);
		this.http.patch()
			.uri("/products/{id}", id)
			.contentType(MERGE_PATCH)
			.body(new byte[] { '{', '"', 'n', 'a', 'm', 'e', '"', ':', '"', (byte) 0xC0, (byte) 0xAF, '"', '}' })
			.exchange()
			.expectStatus()
			.isBadRequest()
			.expectBody()
			.jsonPath("$.detail")
			.isEqualTo("The body is not valid UTF-8");
		this.http.patch()
			.uri("/products/{id}", 999_999)
			.contentType(MERGE_PATCH)
			.body("{\"price\": 1}")
			.exchange()
			.expectStatus()
			.isNotFound();
	}

	private String read(long id, String cache) {
		return this.http.get()
			.uri("/products/{id}", id)
			.exchange()
			.expectStatus()
			.isOk()
			.expectHeader()
			.valueEquals("X-Cache", cache)
			.expectHeader()
			.valueEquals("Cache-Control", "no-cache")
			.returnResult()
			.getResponseHeaders()
			.getETag();
	}

	private RestTestClient.ResponseSpec update(long id, String ifMatch, String body) {
		return this.http.put()
			.uri("/products/{id}", id)
			.header("If-Match", ifMatch)
			.contentType(MediaType.APPLICATION_JSON)
			.body(body)
			.exchange();
	}

	private String url(String path) {
		return "http://127.0.0.1:" + this.port + path;
	}

}
