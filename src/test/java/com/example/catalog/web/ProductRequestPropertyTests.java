package com.example.catalog.web;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;

import com.example.catalog.CatalogApplication;
import com.example.catalog.support.TestRedis;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Property-based tests of how POST /products parses and validates its body, run against
 * the whole service over HTTP. jqwik does not run Spring's JUnit extension, so the class
 * starts the application itself once (own SQLite file, own Redis key prefix, random port)
 * and stops it after the last property.
 */
class ProductRequestPropertyTests {

	private static final JsonMapper JSON = JsonMapper.builder()
		.propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
		.disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
		.enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
		.build();

	private static final BigDecimal TEN_TO_THE_15 = BigDecimal.TEN.pow(15);

	private static ConfigurableApplicationContext application;

	private static HttpClient client;

	private static JdbcTemplate jdbc;

	private static String baseUrl;

	@BeforeContainer
	static void startApplication() throws IOException {
		String run = UUID.randomUUID().toString().substring(0, 8);
		Path folder = Files.createTempDirectory("catalog-property-test-");
		folder.toFile().deleteOnExit();
		Path database = folder.resolve("data").resolve("catalog-" + run + ".db");
		application = new SpringApplicationBuilder(CatalogApplication.class).run(
				"--spring.datasource.url=jdbc:sqlite:" + database, "--spring.data.redis.host=" + TestRedis.host(),
				"--spring.data.redis.port=" + TestRedis.port(), "--catalog.cache.key-prefix=test-" + run + ":product:",
				"--server.port=0", "--management.server.port=0");
		int port = ((WebServerApplicationContext) application).getWebServer().getPort();
		baseUrl = "http://localhost:" + port;
		jdbc = application.getBean(JdbcTemplate.class);
		client = HttpClient.newBuilder()
			.version(HttpClient.Version.HTTP_1_1)
			.connectTimeout(Duration.ofSeconds(5))
			.build();
	}

	@AfterContainer
	static void stopApplication() {
		if (application != null) {
			application.close();
			application = null;
		}
		client = null;
	}

	/**
	 * (a) Whatever bytes come as a JSON body, the service answers 4xx or 201, and only
	 * 201 writes.
	 */
	@Property(tries = 300)
	void anyBodyNeverCausesServerErrorAndOnlyCreatedWrites(@ForAll("anyBodies") byte[] body) {
		long rows = rows();

		Answer answer = post(body);

		Statistics.label("status").collect(answer.status());
		assertThat(answer.status()).as(answer.describe(body)).isLessThan(500);
		if (answer.status() == 201) {
			assertThat(rows()).as(answer.describe(body)).isEqualTo(rows + 1);
		}
		else {
			assertThat(answer.status()).as(answer.describe(body)).isBetween(400, 499);
			assertThat(answer.contentType()).as(answer.describe(body)).startsWith("application/problem+json");
			assertThat(rows()).as(answer.describe(body)).isEqualTo(rows);
		}
	}

	/**
	 * (b) Every valid product is created and reads back exactly as sent (name trimmed,
	 * price to the cent).
	 */
	@Property(tries = 150)
	void validProductsAreCreatedAndReadBackExactly(@ForAll("validProducts") ValidProduct product) {
		String body = product.json();

		Answer created = post(body.getBytes(StandardCharsets.UTF_8));

		assertThat(created.status()).as(created.describe(body)).isEqualTo(201);
		Returned fromPost = created.product();
		product.assertMatches(fromPost);
		assertThat(created.location()).isEqualTo("/products/" + fromPost.id());
		Answer miss = get(fromPost.id());
		Answer hit = get(fromPost.id());
		assertThat(miss.status()).isEqualTo(200);
		assertThat(hit.status()).isEqualTo(200);
		product.assertMatches(miss.product());
		product.assertMatches(hit.product());
		assertThat(hit.body()).isEqualTo(miss.body());
	}

	/**
	 * (c) A JSON object of any shape is either a product (201) or a client error (400),
	 * never anything else.
	 */
	@Property(tries = 300)
	void anyJsonObjectIsCreatedOrRefusedAsBadRequest(@ForAll("jsonObjects") String body) {
		long rows = rows();

		Answer answer = post(body.getBytes(StandardCharsets.UTF_8));

		Statistics.label("status").collect(answer.status());
		// Both outcomes must be reached often enough for the property to mean something.
		Statistics.label("status").coverage((coverage) -> {
			coverage.check(201).percentage((percent) -> percent >= 3);
			coverage.check(400).percentage((percent) -> percent >= 3);
		});
		assertThat(answer.status()).as(answer.describe(body)).isIn(201, 400);
		if (answer.status() == 201) {
			assertThat(rows()).as(answer.describe(body)).isEqualTo(rows + 1);
		}
		else {
			assertThat(answer.contentType()).as(answer.describe(body)).startsWith("application/problem+json");
			assertThat(answer.body()).as(answer.describe(body)).doesNotContain("\tat ", "Exception", "java.");
			assertThat(rows()).as(answer.describe(body)).isEqualTo(rows);
		}
	}

	@Provide
	Arbitrary<byte[]> anyBodies() {
		Arbitrary<byte[]> bytes = Arbitraries.bytes().array(byte[].class).ofMaxSize(400);
		Arbitrary<byte[]> text = Arbitraries.strings().all().ofMaxLength(200).map(ProductRequestPropertyTests::utf8);
		Arbitrary<byte[]> tokens = Arbitraries
			.of("{", "}", "[", "]", ":", ",", "\"", "\"name\"", "\"price\"", "\"stock_quantity\"", "\"quantity\"",
					"\"description\"", "\"x\"", "\"\\u0000\"", "\\", "1", "-1", "0.5", "1e400", "-0", "1.999",
					"2147483648", "true", "false", "null", "NaN", " ", "\n", "\u00e9", "\ud83d\ude00", "/*", "*/", "'",
					"\u0000")
			.list()
			.ofMaxSize(40)
			.map((parts) -> utf8(String.join("", parts)));
		Arbitrary<byte[]> mutated = Combinators
			.combine(validProducts(), Arbitraries.integers().between(0, 1000), Arbitraries.integers().between(0, 2),
					Arbitraries.chars().all())
			.as((product, where, how, character) -> utf8(mutate(product.json(), where, how, character)));
		return Arbitraries.frequencyOf(Tuple.of(2, bytes), Tuple.of(2, text), Tuple.of(3, tokens),
				Tuple.of(3, mutated));
	}

	@Provide
	Arbitrary<ValidProduct> validProducts() {
		Arbitrary<Character> letterOrDigit = Arbitraries.chars().all().filter(Character::isLetterOrDigit);
		Arbitrary<Character> nameCharacter = Arbitraries.frequencyOf(Tuple.of(8, letterOrDigit),
				Tuple.of(1, Arbitraries.just(' ')));
		Arbitrary<String> middle = nameCharacter.list().ofMaxSize(198).map(ProductRequestPropertyTests::join);
		Arbitrary<String> name = Combinators.combine(letterOrDigit, middle, letterOrDigit.injectNull(0.1))
			.as((first, inside, last) -> first + ((last != null) ? inside + last : ""));
		Arbitrary<String> padding = Arbitraries.strings().withChars(' ').ofMaxLength(5);
		Arbitrary<BigDecimal> price = Arbitraries.integers()
			.between(0, 2)
			.flatMap((scale) -> Arbitraries.longs()
				.between(0, TEN_TO_THE_15.movePointRight(scale).longValueExact() - 1)
				.map((unscaled) -> BigDecimal.valueOf(unscaled, scale)));
		Arbitrary<Integer> stock = Arbitraries.integers().between(0, Integer.MAX_VALUE);
		Arbitrary<String> description = Arbitraries.strings()
			.withCharRange('a', 'z')
			.withChars(' ', '.', ',', '-', '\u00e9', '\u20ac')
			.ofMaxLength(2000)
			.injectNull(0.3);
		return Combinators.combine(name, padding, padding, price, stock, description, Arbitraries.of(true, false))
			.as(ValidProduct::new);
	}

	@Provide
	Arbitrary<String> jsonObjects() {
		return jsonObject(3);
	}

	private Arbitrary<String> jsonObject(int depth) {
		Arbitrary<String> key = Arbitraries.oneOf(Arbitraries.of("name", "description", "price", "stock_quantity",
				"quantity", "stockQuantity", "id", "version", "created_at", "Name", "name ", ""),
				Arbitraries.strings().all().ofMaxLength(12));
		Arbitrary<String> member = Combinators.combine(key, jsonValue(depth - 1))
			.as((name, value) -> quote(name) + ":" + value);
		// Mostly plausible values for the real fields, so that a fair share of objects is
		// a valid product.
		Arbitrary<String> name = Arbitraries.frequencyOf(Tuple.of(4,
				Arbitraries.strings()
					.alpha()
					.numeric()
					.withChars(' ')
					.ofMinLength(1)
					.ofMaxLength(30)
					.map(ProductRequestPropertyTests::quote)),
				Tuple.of(1, jsonValue(depth - 1)));
		Arbitrary<String> price = Arbitraries.frequencyOf(Tuple.of(4,
				Arbitraries.bigDecimals()
					.between(BigDecimal.ZERO, new BigDecimal("999999999999999.99"))
					.ofScale(2)
					.map(BigDecimal::toPlainString)),
				Tuple.of(1, jsonValue(depth - 1)));
		Arbitrary<String> stock = Arbitraries.frequencyOf(
				Tuple.of(4, Arbitraries.integers().between(0, Integer.MAX_VALUE).map(String::valueOf)),
				Tuple.of(1, jsonValue(depth - 1)));
		Arbitrary<String> description = Arbitraries.frequencyOf(
				Tuple.of(4, Arbitraries.strings().all().ofMaxLength(40).map(ProductRequestPropertyTests::quote)),
				Tuple.of(1, jsonValue(depth - 1)));
		Arbitrary<List<String>> known = Combinators.combine(name, price, stock, description)
			.as((n, p, q, d) -> List.of("\"name\":" + n, "\"price\":" + p, "\"stock_quantity\":" + q,
					"\"description\":" + d));
		Arbitrary<List<String>> members = Arbitraries.oneOf(member.list().ofMaxSize(6),
				Combinators
					.combine(known, member.list().ofMaxSize(1), Arbitraries.integers().between(0, 15),
							Arbitraries.integers().between(0, 4))
					.as((fields, extra, drop, extraChance) -> {
						List<String> chosen = new ArrayList<>(fields);
						if (drop < chosen.size()) {
							chosen.remove((int) drop);
						}
						if (extraChance == 0) {
							chosen.addAll(extra);
						}
						return chosen;
					}));
		return members.map((parts) -> "{" + String.join(",", parts) + "}");
	}

	private Arbitrary<String> jsonValue(int depth) {
		Arbitrary<String> numbers = Arbitraries.oneOf(Arbitraries.integers().map(String::valueOf),
				Arbitraries.longs().map(String::valueOf),
				Arbitraries.bigDecimals().ofScale(3).map(BigDecimal::toPlainString),
				Arbitraries.of("0", "-0", "0.0", "1.5", "1.99", "1.999", "-0.01", "1e3", "1E-2", "1e400", "-1e400",
						"2147483647", "2147483648", "-2147483649", "999999999999999.99", "1000000000000000",
						"9223372036854775808", "12345678901234567890123456789", "0.00000000000000000001"));
		Arbitrary<String> strings = Arbitraries
			.oneOf(Arbitraries.strings().all().ofMaxLength(30),
					Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(10), Arbitraries.of("", " ", "12", "1.00"))
			.map(ProductRequestPropertyTests::quote);
		Arbitrary<String> scalars = Arbitraries.oneOf(numbers, strings, Arbitraries.of("true", "false", "null"));
		if (depth <= 0) {
			return scalars;
		}
		Arbitrary<String> array = Arbitraries.lazy(() -> jsonValue(depth - 1))
			.list()
			.ofMaxSize(3)
			.map((items) -> "[" + String.join(",", items) + "]");
		Arbitrary<String> object = Arbitraries.lazy(() -> jsonObject(depth - 1));
		return Arbitraries.frequencyOf(Tuple.of(6, scalars), Tuple.of(1, array), Tuple.of(1, object));
	}

	private static String mutate(String json, int where, int how, char character) {
		int at = where % (json.length() + 1);
		return switch (how) {
			case 0 -> json.substring(0, at) + character + json.substring(at);
			case 1 -> (at < json.length()) ? json.substring(0, at) + json.substring(at + 1) : json.substring(0, at);
			default -> json.substring(0, at);
		};
	}

	private static String quote(String text) {
		return JSON.writeValueAsString(text);
	}

	private static String join(List<Character> characters) {
		return characters.stream().map(String::valueOf).collect(Collectors.joining());
	}

	private static byte[] utf8(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

	private static long rows() {
		return jdbc.queryForObject("SELECT COUNT(*) FROM products", Long.class);
	}

	private static Answer post(byte[] body) {
		return send(HttpRequest.newBuilder(URI.create(baseUrl + "/products"))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofByteArray(body))
			.build());
	}

	private static Answer get(long id) {
		return send(HttpRequest.newBuilder(URI.create(baseUrl + "/products/" + id)).GET().build());
	}

	private static Answer send(HttpRequest request) {
		try {
			HttpResponse<String> response = client.send(request,
					HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
			return new Answer(response.statusCode(), response.headers().firstValue("Content-Type").orElse(""),
					response.headers().firstValue("Location").orElse(null), response.body());
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	/** A product that must be accepted, and what the API must give back for it. */
	record ValidProduct(String name, String leading, String trailing, BigDecimal price, int stock, String description,
			boolean quantityAlias) {

		String json() {
			StringBuilder json = new StringBuilder("{\"name\":").append(quote(this.leading + this.name + this.trailing))
				.append(",\"price\":")
				.append(this.price.toPlainString())
				.append(this.quantityAlias ? ",\"quantity\":" : ",\"stock_quantity\":")
				.append(this.stock);
			if (this.description != null) {
				json.append(",\"description\":").append(quote(this.description));
			}
			return json.append('}').toString();
		}

		void assertMatches(Returned returned) {
			assertThat(returned.name()).isEqualTo(this.name);
			assertThat(returned.price()).isEqualByComparingTo(this.price);
			// The API always answers with exactly two decimals.
			assertThat(returned.price().scale()).isEqualTo(2);
			assertThat(returned.stockQuantity()).isEqualTo(this.stock);
			// An empty description means none.
			assertThat(returned.description())
				.isEqualTo((this.description == null || this.description.isEmpty()) ? null : this.description);
			assertThat(returned.version()).isZero();
		}

	}

	/** The product fields of an answer, with the price read exactly. */
	record Returned(long id, String name, String description, BigDecimal price, int stockQuantity, long version) {

	}

	record Answer(int status, String contentType, String location, String body) {

		Returned product() {
			return JSON.readValue(this.body, Returned.class);
		}

		String describe(Object request) {
			String sent = (request instanceof byte[] bytes) ? describeBytes(bytes) : String.valueOf(request);
			return "POST /products " + sent + " -> " + this.status + " " + this.contentType + " " + this.body;
		}

		private static String describeBytes(byte[] bytes) {
			StringBuilder hex = new StringBuilder("bytes[");
			for (byte b : bytes) {
				hex.append(String.format("%02x", b));
			}
			return hex.append("] = ").append(Map.of("utf8", new String(bytes, StandardCharsets.UTF_8))).toString();
		}

	}

}
