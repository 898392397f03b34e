package com.example.catalog.product;

import java.util.Map;

import jakarta.persistence.EntityManagerFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.example.catalog.cache.CacheProperties;
import com.example.catalog.cache.ProductKeys;
import com.example.catalog.support.DatabaseStatements;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The products API end to end: CRUD over HTTP, the cache in Redis behind it, and the
 * errors.
 */
@IntegrationTest
@Order(3) // among the longest classes: started first (junit-platform.properties)
class ProductApiTests {

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
	}

	@Autowired
	private RestTestClient http;

	@Autowired
	private StringRedisTemplate redis;

	@Autowired
	private CacheProperties cacheProperties;

	@Autowired
	private ProductKeys keys;

	@Autowired
	private ProductRepository products;

	private DatabaseStatements statements;

	@BeforeEach
	void countStatements(@Autowired EntityManagerFactory entityManagerFactory) {
		this.statements = new DatabaseStatements(entityManagerFactory);
	}

	@Test
	void createsProductAndAnswersWithLocationAndStoredFields() {
		Map<String, Object> body = this.http.post()
			.uri("/products")
			.contentType(MediaType.APPLICATION_JSON)
			.body("""
					{"name": "  Desk lamp ", "description": "LED", "price": 19.90, "quantity": 7}""")
			.exchange()
			.expectStatus()
			.isCreated()
			.expectHeader()
			.valueMatches("Location", "/products/\\d+")
			.expectBody(TestProducts.JSON_OBJECT)
			.returnResult()
			.getResponseBody();

		assertThat(body).containsEntry("name", "Desk lamp").containsEntry("description", "LED");
		assertThat(body.get("price")).hasToString("19.9");
		assertThat(body).containsEntry("stock_quantity", 7).containsEntry("version", 0);
		assertThat((String) body.get("created_at")).endsWith("Z");
		assertThat(body.get("updated_at")).isEqualTo(body.get("created_at"));
		long id = ((Number) body.get("id")).longValue();
		this.http.get()
			.uri("/products/{id}", id)
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.jsonPath("$.price")
			.isEqualTo(19.90)
			.jsonPath("$.stock_quantity")
			.isEqualTo(7);
	}

	@Test
	void keepsPricesExact() {
		long id = create("Ledger", "12345678901234.99", 1);

		String json = this.http.get()
			.uri("/products/{id}", id)
			.exchange()
			.expectBody(String.class)
			.returnResult()
			.getResponseBody();

		assertThat(json).contains("\"price\":12345678901234.99");
	}

	@Test
	void firstReadMissesAndFillsRedisWithTheTtl() {
		long id = create("Chair", "49.00", 3);

		this.http.get()
			.uri("/products/{id}", id)
			.exchange()
			.expectStatus()
			.isOk()
			.expectHeader()
			.valueEquals("X-Cache", "MISS");

		assertThat(this.redis.opsForHash().get(key(id), "state")).isEqualTo("value");
		assertThat(this.redis.opsForHash().get(key(id), "version")).isEqualTo("0");
		Long ttl = this.redis.getExpire(key(id));
		long configured = this.cacheProperties.ttl().toSeconds();
		assertThat(ttl).isBetween((long) (configured * 0.89), (long) (configured * 1.11));
	}

	@Test
	void returnsCachedProductWithoutTouchingDatabase() {
		long id = create("Table", "120.00", 2);
		String first = this.http.get()
			.uri("/products/{id}", id)
			.exchange()
			.expectBody(String.class)
			.returnResult()
			.getResponseBody();
		long before = this.statements.count();

		String second = this.http.get()
			.uri("/products/{id}", id)
			.exchange()
			.expectStatus()
			.isOk()
			.expectHeader()
			.valueEquals("X-Cache", "HIT")
			.expectBody(String.class)
			.returnResult()
			.getResponseBody();

		assertThat(this.statements.count()).isEqualTo(before);
		assertThat(second).isEqualTo(first);
	}

	@Test
	void updateChangesOnlyGivenFieldsAndTheNextReadIsAHitOfTheNewVersion() {
		long id = create("Lamp", "10.00", 5);
		readTwice(id);

		this.http.put()
			.uri("/products/{id}", id)
			.contentType(MediaType.APPLICATION_JSON)
			.body("""
					{"price": 99.99}""")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.jsonPath("$.price")
			.isEqualTo(99.99)
			.jsonPath("$.name")
			.isEqualTo("Lamp")
			.jsonPath("$.stock_quantity")
			.isEqualTo(5)
			.jsonPath("$.version")
			.isEqualTo(1);

		assertThat(this.redis.opsForHash().get(key(id), "version")).isEqualTo("1");
		long before = this.statements.count();
		this.http.get()
			.uri("/products/{id}", id)
			.exchange()
			.expectHeader()
			.valueEquals("X-Cache", "HIT")
			.expectBody()
			.jsonPath("$.price")
			.isEqualTo(99.99)
			.jsonPath("$.version")
			.isEqualTo(1);
		assertThat(this.statements.count()).as("database statements of the read after the update").isEqualTo(before);
	}

	/**
	 * An update leaves in Redis the product as the database stored it: the reads after a
	 * PUT and after a conditional PATCH are hits of the JSON they answered with, which is
	 * the JSON a read from the database serves (a new name, a removed description and the
	 * new timestamp included).
	 */
	@Test
	void anUpdateCachesExactlyWhatADatabaseReadServes() {
		long id = create("Teapot", "12.50", 3);
		TestProducts.assertUpdatesCacheWhatTheDatabaseServes(this.http, id, """
				{"name": "Teapot XL", "description": "", "price": 13.05, "stock_quantity": 4}""",
				() -> this.redis.delete(this.keys.key(id)));
	}

	/**
	 * The chosen rule: only a PUT that changes a value moves {@code version} (and
	 * {@code updated_at}); one that repeats the stored values leaves the product as it
	 * was, so a version-based ETag stays the same for the same representation.
	 */
	@Test
	void updateThatChangesNothingKeepsVersionAndUpdatedAt() {
		long id = create("Mug", "4.00", 8);
		Map<String, Object> before = this.http.get()
			.uri("/products/{id}", id)
			.exchange()
			.expectBody(TestProducts.JSON_OBJECT)
			.returnResult()
			.getResponseBody();

		this.http.put()
			.uri("/products/{id}", id)
			.contentType(MediaType.APPLICATION_JSON)
			.body("""
					{"price": 4.00, "stock_quantity": 8}""")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.jsonPath("$.version")
			.isEqualTo(0)
			.jsonPath("$.updated_at")
			.isEqualTo(before.get("updated_at"));

		this.http.put()
			.uri("/products/{id}", id)
			.contentType(MediaType.APPLICATION_JSON)
			.body("""
					{"stock_quantity": 9}""")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.jsonPath("$.version")
			.isEqualTo(1);
	}

	@Test
	void updateAcceptsQuantityAliasAndClearsDescriptionWhenEmpty() {
		long id = create("Pen", "1.50", 100);

		this.http.put()
			.uri("/products/{id}", id)
			.contentType(MediaType.APPLICATION_JSON)
			.body("""
					{"quantity": 90, "description": ""}""")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.jsonPath("$.stock_quantity")
			.isEqualTo(90)
			.jsonPath("$.description")
			.isEmpty();
	}

	@Test
	void deleteRemovesProductAndNextReadIsNotFound() {
		long id = create("Stool", "15.00", 1);
		readTwice(id);

		this.http.delete().uri("/products/{id}", id).exchange().expectStatus().isNoContent();

		assertThat(this.redis.opsForHash().get(key(id), "state")).isEqualTo("deleted");
		this.http.get().uri("/products/{id}", id).exchange().expectStatus().isNotFound();
		assertThat(this.products.existsById(id)).isFalse();
	}

	@Test
	void unknownIdIsNotFoundForEveryMethodAndPutDoesNotCreate() {
		long missing = 9_000_000L;
		this.http.get()
			.uri("/products/{id}", missing)
			.exchange()
			.expectStatus()
			.isNotFound()
			.expectHeader()
			.contentType(MediaType.APPLICATION_PROBLEM_JSON)
			.expectBody()
			.jsonPath("$.detail")
			.isEqualTo("No product with id 9000000");
		this.http.put().uri("/products/{id}", missing).contentType(MediaType.APPLICATION_JSON).body("""
				{"name": "Ghost"}""").exchange().expectStatus().isNotFound();
		this.http.delete().uri("/products/{id}", missing).exchange().expectStatus().isNotFound();
		assertThat(this.products.existsById(missing)).isFalse();
	}

	@ParameterizedTest
	@ValueSource(strings = { "{\"description\": \"no name\", \"price\": 1.00, \"stock_quantity\": 1}",
			"{\"name\": \"   \", \"price\": 1.00, \"stock_quantity\": 1}", "{\"name\": \"n\", \"stock_quantity\": 1}",
			"{\"name\": \"n\", \"price\": 1.00}", "{\"name\": \"n\", \"price\": -0.01, \"stock_quantity\": 1}",
			"{\"name\": \"n\", \"price\": 1.001, \"stock_quantity\": 1}",
			"{\"name\": \"n\", \"price\": 1e400, \"stock_quantity\": 1}",
			"{\"name\": \"n\", \"price\": \"1.00\", \"stock_quantity\": 1}",
			"{\"name\": \"n\", \"price\": 1.00, \"stock_quantity\": -1}",
			"{\"name\": \"n\", \"price\": 1.00, \"stock_quantity\": 1.5}",
			"{\"name\": \"n\", \"price\": 1.00, \"stock_quantity\": 3000000000}",
			"{\"name\": \"n\", \"price\": 1.00, \"stock_quantity\": 1, \"colour\": \"red\"}",
			"{\"name\": 5, \"price\": 1.00, \"stock_quantity\": 1}", "{\"name\": \"n\", \"price\": 1.00,", "[1, 2]", "",
			"null" })
	void refusesInvalidProductWithProblemAndWritesNothing(String body) {
		long rows = this.products.count();

		this.http.post()
			.uri("/products")
			.contentType(MediaType.APPLICATION_JSON)
			.body(body)
			.exchange()
			.expectStatus()
			.isBadRequest()
			.expectHeader()
			.contentType(MediaType.APPLICATION_PROBLEM_JSON)
			.expectBody()
			.jsonPath("$.status")
			.isEqualTo(400)
			.jsonPath("$.detail")
			.isNotEmpty()
			.jsonPath("$.trace")
			.doesNotExist();

		assertThat(this.products.count()).isEqualTo(rows);
	}

	@Test
	void namesEachInvalidFieldInSnakeCase() {
		this.http.post()
			.uri("/products")
			.contentType(MediaType.APPLICATION_JSON)
			.body("""
					{"name": "%s", "price": 1.00, "stock_quantity": -4}""".formatted("x".repeat(201)))
			.exchange()
			.expectStatus()
			.isBadRequest()
			.expectBody()
			.jsonPath("$.errors[*].field")
			.value((fields) -> assertThat(fields.toString()).contains("name", "stock_quantity"));
	}

	@Test
	void refusesUpdateThatChangesNothingOrIsInvalid() {
		long id = create("Mug", "8.00", 4);

		this.http.put()
			.uri("/products/{id}", id)
			.contentType(MediaType.APPLICATION_JSON)
			.body("{}")
			.exchange()
			.expectStatus()
			.isBadRequest()
			.expectBody()
			.jsonPath("$.detail")
			.value((detail) -> assertThat((String) detail).contains("no field"));
		this.http.put().uri("/products/{id}", id).contentType(MediaType.APPLICATION_JSON).body("""
				{"price": -1}""").exchange().expectStatus().isBadRequest();
		this.http.put().uri("/products/{id}", id).contentType(MediaType.APPLICATION_JSON).body("""
				{"name": ""}""").exchange().expectStatus().isBadRequest();

		this.http.get()
			.uri("/products/{id}", id)
			.exchange()
			.expectBody()
			.jsonPath("$.price")
			.isEqualTo(8.00)
			.jsonPath("$.name")
			.isEqualTo("Mug")
			.jsonPath("$.version")
			.isEqualTo(0);
	}

	@ParameterizedTest
	@ValueSource(strings = { "abc", "0", "-5", "99999999999999999999", "1.5" })
	void refusesIdsThatAreNotPositiveWholeNumbers(String id) {
		this.http.get()
			.uri("/products/" + id)
			.exchange()
			.expectStatus()
			.isBadRequest()
			.expectHeader()
			.contentType(MediaType.APPLICATION_PROBLEM_JSON);
		this.http.delete().uri("/products/" + id).exchange().expectStatus().isBadRequest();
	}

	@Test
	void refusesBodiesThatAreNotJson() {
		long rows = this.products.count();

		this.http.post()
			.uri("/products")
			.contentType(MediaType.TEXT_PLAIN)
			.body("name=x")
			.exchange()
			.expectStatus()
			.isEqualTo(415)
			.expectHeader()
			.contentType(MediaType.APPLICATION_PROBLEM_JSON);

		assertThat(this.products.count()).isEqualTo(rows);
	}

	@Test
	void healthIsOk() {
		this.http.get()
			.uri("/health")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.jsonPath("$.status")
			.isEqualTo("ok")
			.jsonPath("$.database")
			.isEqualTo("up")
			.jsonPath("$.cache")
			.isEqualTo("up");
	}

	private long create(String name, String price, int stock) {
		return TestProducts.create(this.http, name, price, stock);
	}

	private void readTwice(long id) {
		this.http.get().uri("/products/{id}", id).exchange().expectHeader().valueEquals("X-Cache", "MISS");
		this.http.get().uri("/products/{id}", id).exchange().expectHeader().valueEquals("X-Cache", "HIT");
	}

	private String key(long id) {
		return this.keys.key(id);
	}

}
