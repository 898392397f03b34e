package com.example.catalog.support;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.EntityExchangeResult;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Creating, updating and reading products over HTTP, the way most tests set up and look
 * at their data.
 */
public final class TestProducts {

	/** A JSON object as a map, for reading response bodies. */
	public static final ParameterizedTypeReference<Map<String, Object>> JSON_OBJECT = new ParameterizedTypeReference<>() {
	};

	private TestProducts() {
	}

	/** Creates a product and returns its id; fails unless the answer is 201. */
	public static long create(RestTestClient http, String name, String price, int stock) {
		Map<String, Object> body = http.post()
			.uri("/products")
			.contentType(MediaType.APPLICATION_JSON)
			.body("{\"name\": \"%s\", \"price\": %s, \"stock_quantity\": %d}".formatted(name, price, stock))
			.exchange()
			.expectStatus()
			.isCreated()
			.expectBody(JSON_OBJECT)
			.returnResult()
			.getResponseBody();
		return ((Number) body.get("id")).longValue();
	}

	/**
	 * Creates {@code count} products named {@code name + " " + i} and reads each once (so
	 * that it is loaded into the cache); returns their ids in order.
	 */
	public static List<Long> createAndRead(RestTestClient http, String name, String price, int count) {
		List<Long> ids = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			long id = create(http, name + " " + i, price, 1);
			read(http, id);
			ids.add(id);
		}
		return ids;
	}

	/** Reads a product; fails unless the answer is 200. */
	public static EntityExchangeResult<Map<String, Object>> read(RestTestClient http, long id) {
		return http.get()
			.uri("/products/{id}", id)
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody(JSON_OBJECT)
			.returnResult();
	}

	/** Updates a product with a PUT of this body; fails unless the answer is 200. */
	public static void update(RestTestClient http, long id, String body) {
		putJson(http, id, body);
	}

	// The product a PUT of this body answered with, as the bytes it sent.
	private static String putJson(RestTestClient http, long id, String body) {
		return okJson(http.put().uri("/products/{id}", id).contentType(MediaType.APPLICATION_JSON).body(body));
	}

	/**
	 * Asserts what an update leaves in the cache: the reads after a PUT of this body (and
	 * after a conditional PATCH of the description, {@code If-Match} naming the version
	 * the PUT made) are hits of exactly the JSON it answered with, byte for byte the JSON
	 * a read from the database serves once the cached entry is gone
	 * ({@code dropCachedEntry}): every field, the timestamps included, as the database
	 * stored them.
	 */
	public static void assertUpdatesCacheWhatTheDatabaseServes(RestTestClient http, long id, String body,
			Runnable dropCachedEntry) {
		String put = putJson(http, id, body);
		assertCachedAsTheDatabaseServes(http, id, put, dropCachedEntry);
		String version = String.valueOf(((Number) read(http, id).getResponseBody().get("version")).longValue());
		String patched = okJson(http.patch()
			.uri("/products/{id}", id)
			.contentType(MediaType.valueOf("application/merge-patch+json"))
			.header("If-Match", "\"" + version + "\"")
			.body("{\"description\": \"patched\"}"));
		assertCachedAsTheDatabaseServes(http, id, patched, dropCachedEntry);
	}

	private static String okJson(RestTestClient.RequestHeadersSpec<?> request) {
		return request.exchange().expectStatus().isOk().expectBody(String.class).returnResult().getResponseBody();
	}

	private static void assertCachedAsTheDatabaseServes(RestTestClient http, long id, String written,
			Runnable dropCachedEntry) {
		assertThat(readJson(http, id, "HIT")).as("the read after the update").isEqualTo(written);
		dropCachedEntry.run();
		assertThat(readJson(http, id, "MISS")).as("the read from the database").isEqualTo(written);
	}

	private static String readJson(RestTestClient http, long id, String cache) {
		return http.get()
			.uri("/products/{id}", id)
			.exchange()
			.expectStatus()
			.isOk()
			.expectHeader()
			.valueEquals("X-Cache", cache)
			.expectBody(String.class)
			.returnResult()
			.getResponseBody();
	}

	/** Reads a page of the list ({@code GET /products?<query>}); fails unless 200. */
	public static EntityExchangeResult<Map<String, Object>> list(RestTestClient http, String query) {
		return http.get()
			.uri("/products?" + query)
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody(JSON_OBJECT)
			.returnResult();
	}

	/**
	 * Waits, up to 10 s, until a read of the product is answered from the cache: the
	 * first read fills it, unless Redis is away or still connecting.
	 */
	public static void awaitCacheHit(RestTestClient http, long id) {
		await().atMost(Duration.ofSeconds(10))
			.pollInterval(Duration.ofMillis(200))
			.untilAsserted(
					() -> http.get().uri("/products/{id}", id).exchange().expectHeader().valueEquals("X-Cache", "HIT"));
	}

}
