package com.example.catalog.web;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

/**
 * A corpus of hostile requests sent over a real socket: each must be refused with a 4xx
 * problem+json that gives nothing internal away, and must write nothing. Requests are
 * sent with {@link HttpClient}, or byte by byte on a socket where even that client would
 * not send them (a body shorter than its Content-Length, broken chunked framing).
 */
@IntegrationTest
@Order(4) // among the longest classes: started first (junit-platform.properties)
class HostileInputTests {

	private static final ParameterizedTypeReference<Map<String, Object>> JSON_OBJECT = new ParameterizedTypeReference<>() {
	};

	private static final int LIMIT = 64 * 1024;

	private static final String VALID = """
			{"name": "Probe", "price": 1.00, "stock_quantity": 1}""";

	private static final HttpClient CLIENT = HttpClient.newBuilder()
		.version(HttpClient.Version.HTTP_1_1)
		.connectTimeout(Duration.ofSeconds(5))
		.build();

	private static final JsonMapper JSON = JsonMapper.builder().build();

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
	}

	@LocalServerPort
	private int port;

	@Autowired
	private RestTestClient http;

	@Autowired
	private JdbcTemplate jdbc;

	private long existing;

	@BeforeEach
	void createProductToAttack() {
		this.existing = create(
				"{\"name\": \"Original\", \"description\": \"Kept\", \"price\": 10.00, \"stock_quantity\": 5}");
	}

	@ParameterizedTest
	@MethodSource("hostileBodies")
	void refusesHostileCreateAndWritesNothing(Hostile hostile) {
		List<Map<String, Object>> table = table();

		Answer answer = send("POST", "/products", hostile);

		assertRefused(answer, hostile.expected());
		assertThat(rows()).isEqualTo(table.size());
		assertThat(table()).isEqualTo(table);
	}

	@ParameterizedTest
	@MethodSource("hostileBodies")
	void refusesHostileUpdateAndLeavesTheProductAsItWas(Hostile hostile) {
		String before = read(this.existing);
		List<Map<String, Object>> table = table();

		Answer answer = send("PUT", "/products/" + this.existing, hostile);

		assertRefused(answer, hostile.expected());
		assertThat(read(this.existing)).isEqualTo(before);
		assertThat(rows()).isEqualTo(table.size());
		assertThat(table()).isEqualTo(table);
	}

	/**
	 * Ids that are not the plain decimal form of a positive long never name a product,
	 * for any method. Products 1 and 16 exist while these run, so an id that the service
	 * quietly reads as 1 ({@code +1}, {@code 1 }, a fullwidth digit, {@code 1;x=y}) or as
	 * 16 ({@code 0x10}, {@code #10}) is caught answering 200 rather than slipping through
	 * as a 404. GET goes first, so such an alias fails the test before PUT or DELETE
	 * could change a product.
	 */
	@ParameterizedTest
	@MethodSource("trickyIds")
	void refusesIdsThatAreNotPlainPositiveNumbers(String id) {
		ensureProductsUpTo(16);
		List<Map<String, Object>> table = table();
		Hostile change = json("{\"price\": 5.55}", 400, 404);

		assertRefused(send("GET", "/products/" + id, null), Set.of(400, 404));
		assertRefused(send("PUT", "/products/" + id, change), Set.of(400, 404));
		assertRefused(send("DELETE", "/products/" + id, null), Set.of(400, 404));

		assertThat(table()).isEqualTo(table);
	}

	/**
	 * A batch read's ids follow the rules of an id in a path, one by one: anything but a
	 * list of 1 to 100 plain positive decimals, alone, is a 400 that echoes none of it.
	 */
	@ParameterizedTest
	@MethodSource("trickyBatches")
	void refusesBatchReadsThatAreNotPlainListsOfIds(String query) {
		ensureProductsUpTo(16);

		Answer answer = send("GET", "/products?" + query, null);

		assertRefused(answer, Set.of(400));
		assertThat(answer.body()).as(answer.toString()).doesNotContain("0x10", "<script", "%00", "\u0000");
	}

	/** The same id many times, and one asked in several spellings Spring would accept. */
	@Test
	void answersADuplicatedIdOnce() {
		String many = String.join(",", java.util.Collections.nCopies(100, Long.toString(this.existing)));

		Answer answer = send("GET", "/products?ids=" + many, null);

		assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
		JsonNode body = JSON.readTree(answer.body());
		assertThat(body.path("items").size()).isEqualTo(1);
		assertThat(body.path("items").get(0).path("id").asLong()).isEqualTo(this.existing);
		assertThat(body.path("size").asInt()).isEqualTo(1);
	}

	/**
	 * Encoded NULs and slashes are refused by Tomcat while it parses the URL, before the
	 * request reaches the application; the Host's error report valve
	 * ({@link ContainerErrorProblems}) still answers them with problem+json. The answer
	 * must be a 400 that changes nothing and gives nothing away.
	 */
	@ParameterizedTest
	@MethodSource("pathsTheContainerRefuses")
	void containerRefusesMalformedPathsWithProblemJson(String id) {
		ensureProductsUpTo(16);
		List<Map<String, Object>> table = table();

		for (String method : List.of("GET", "PUT", "DELETE")) {
			Answer answer = send(method, "/products/" + id,
					method.equals("PUT") ? json("{\"price\": 5.55}", 400) : null);
			assertThat(answer.status()).as(answer.toString()).isEqualTo(400);
			assertThat(answer.contentType()).as(answer.toString()).startsWith(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
			assertThat(answer.body()).as(answer.toString())
				.doesNotContainIgnoringCase("tomcat")
				.doesNotContain("\tat ", "Exception", "java.");
			JsonNode problem = JSON.readTree(answer.body());
			assertThat(problem.path("status").asInt()).as(answer.toString()).isEqualTo(400);
			assertThat(problem.path("title").asString()).as(answer.toString()).isEqualTo("Bad Request");
			assertThat(problem.path("detail").asString()).as(answer.toString()).isNotBlank();
		}

		assertThat(table()).isEqualTo(table);
	}

	@ParameterizedTest
	@MethodSource("unicodeNames")
	void acceptsUnicodeNamesAndKeepsThemExactly(String name) {
		long rows = rows();
		String body = "{\"name\": " + JSON.writeValueAsString(name) + ", \"price\": 3.50, \"stock_quantity\": 2}";

		Answer created = send("POST", "/products", json(body, 201));

		assertThat(created.status()).as(created.toString()).isEqualTo(201);
		long id = JSON.readTree(created.body()).get("id").asLong();
		assertThat(JSON.readTree(created.body()).get("name").asString()).isEqualTo(name);
		assertThat(rows()).isEqualTo(rows + 1);
		assertThat(this.jdbc.queryForObject("SELECT name FROM products WHERE id = ?", String.class, id))
			.isEqualTo(name);
		// The first read loads from the database, the second comes from Redis: both keep
		// every code point.
		for (String cache : List.of("MISS", "HIT")) {
			this.http.get()
				.uri("/products/{id}", id)
				.exchange()
				.expectStatus()
				.isOk()
				.expectHeader()
				.valueEquals("X-Cache", cache)
				.expectBody()
				.jsonPath("$.name")
				.isEqualTo(name);
		}
	}

	/**
	 * A WAF in front and the service must read a body the same way: with a key given
	 * twice, each may keep a different value, so duplicate keys are refused.
	 */
	@Test
	void refusesDuplicateKeys() {
		assertDuplicateRefused("POST", "/products", """
				{"name": "first", "name": "last", "price": 1.00, "stock_quantity": 1}""");
		assertDuplicateRefused("PUT", "/products/" + this.existing, """
				{"price": 2.00, "price": 3.00}""");
		assertDuplicateRefused("POST", "/products", """
				{"name": "nested", "price": 1.00, "stock_quantity": 1, "stock_quantity": 1}""");
	}

	/** Nothing to render: /error asked for directly is not an endpoint and not a 500. */
	@Test
	void errorPageAskedForDirectlyIsNotFound() {
		for (String method : List.of("GET", "DELETE", "POST")) {
			Answer answer = send(method, "/error", null);
			assertThat(answer.status()).as(answer.toString()).isEqualTo(404);
		}
	}

	/**
	 * Every answer tells browsers not to sniff or frame it and names no server; errors
	 * are never stored by a cache.
	 */
	@Test
	void answersCarrySecurityHeadersAndErrorsAreNeverStored() throws IOException, InterruptedException {
		Map<String, Integer> requests = new LinkedHashMap<>();
		requests.put("/health", 200);
		requests.put("/products/" + this.existing, 200);
		requests.put("/products/987654321", 404);
		requests.put("/products/abc", 400);
		requests.put("/products/1%00", 400);
		requests.put("/nowhere", 404);
		for (Map.Entry<String, Integer> request : requests.entrySet()) {
			HttpResponse<String> response = CLIENT.send(
					HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + request.getKey())).build(),
					HttpResponse.BodyHandlers.ofString());
			String shown = request.getKey() + " -> " + response.statusCode() + " " + response.headers().map();
			assertThat(response.statusCode()).as(shown).isEqualTo(request.getValue());
			assertThat(response.headers().firstValue("X-Content-Type-Options")).as(shown).hasValue("nosniff");
			assertThat(response.headers().firstValue("X-Frame-Options")).as(shown).hasValue("DENY");
			assertThat(response.headers().firstValue("Content-Security-Policy")).as(shown)
				.hasValueSatisfying((csp) -> assertThat(csp).contains("frame-ancestors 'none'"));
			assertThat(response.headers().firstValue("Server")).as(shown).isEmpty();
			if (response.statusCode() >= 400) {
				assertThat(response.headers().firstValue("Cache-Control")).as(shown).hasValue("no-store");
			}
		}
	}

	/**
	 * Swagger UI's own files get the policy its page needs; the API, the OpenAPI
	 * document, the redirect to the page and every other path keep
	 * {@code default-src 'none'}. The other headers are the same everywhere.
	 */
	@Test
	void onlySwaggerUiGetsItsContentSecurityPolicy() throws IOException, InterruptedException {
		String strict = "default-src 'none'; frame-ancestors 'none'";
		Map<String, String> policies = new LinkedHashMap<>();
		policies.put("/swagger-ui/index.html", RequestGuard.SWAGGER_UI_POLICY);
		policies.put("/swagger-ui/swagger-ui-bundle.js", RequestGuard.SWAGGER_UI_POLICY);
		policies.put("/swagger-ui/swagger-initializer.js", RequestGuard.SWAGGER_UI_POLICY);
		policies.put("/swagger-ui.html", strict);
		policies.put("/v3/api-docs", strict);
		policies.put("/v3/api-docs/swagger-config", strict);
		policies.put("/products", strict);
		policies.put("/products/" + this.existing, strict);
		policies.put("/health", strict);
		policies.put("/swagger-ui", strict);
		policies.put("/swagger-ui.html.js", strict);
		policies.put("/swagger-ui/../products", strict);
		policies.put("/nowhere", strict);
		for (Map.Entry<String, String> expected : policies.entrySet()) {
			HttpResponse<String> response = CLIENT.send(
					HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + expected.getKey())).build(),
					HttpResponse.BodyHandlers.ofString());
			String shown = expected.getKey() + " -> " + response.statusCode() + " " + response.headers().map();
			assertThat(response.headers().allValues("Content-Security-Policy")).as(shown)
				.containsExactly(expected.getValue());
			assertThat(response.headers().firstValue("X-Content-Type-Options")).as(shown).hasValue("nosniff");
			assertThat(response.headers().firstValue("X-Frame-Options")).as(shown).hasValue("DENY");
			assertThat(response.headers().firstValue("Referrer-Policy")).as(shown).hasValue("no-referrer");
		}
		assertThat(RequestGuard.SWAGGER_UI_POLICY).startsWith("default-src 'none';")
			.endsWith("; frame-ancestors 'none'")
			.doesNotContain("unsafe-inline", "unsafe-eval", "*");
	}

	static Stream<Arguments> hostileBodies() {
		List<Arguments> rows = new ArrayList<>();
		// Malformed and truncated JSON
		rows.add(row("empty body", json("", 400)));
		rows.add(row("whitespace only", json(" \r\n\t ", 400)));
		rows.add(row("JSON null", json("null", 400)));
		rows.add(row("empty object", json("{}", 400)));
		rows.add(row("bare string", json("\"Probe\"", 400)));
		rows.add(row("bare number", json("42", 400)));
		rows.add(row("array holding a product", json("[" + VALID + "]", 400)));
		rows.add(row("truncated after a key", json("{\"name\": \"Probe\", \"price\": 1.00, \"stock_quantity\"", 400)));
		rows.add(row("truncated inside a string", json("{\"name\": \"Pro", 400)));
		rows.add(row("lone opening brace", json("{", 400)));
		rows.add(row("closing brace only", json("}", 400)));
		rows.add(row("single quotes", json("{'name': 'Probe', 'price': 1.00, 'stock_quantity': 1}", 400)));
		rows.add(row("unquoted keys", json("{name: \"Probe\", price: 1.00, stock_quantity: 1}", 400)));
		rows.add(row("comment", json("{/* hi */ \"name\": \"Probe\", \"price\": 1.00, \"stock_quantity\": 1}", 400)));
		rows.add(row("trailing comma", json("{\"name\": \"Probe\", \"price\": 1.00, \"stock_quantity\": 1,}", 400)));
		rows.add(row("trailing garbage", json(VALID + " garbage", 400)));
		rows.add(row("two objects", json(VALID + VALID, 400)));
		rows.add(row("raw NUL byte inside a string",
				json("{\"name\": \"a\u0000b\", \"price\": 1.00, \"stock_quantity\": 1}", 400)));
		rows.add(row("raw newline inside a string",
				json("{\"name\": \"a\nb\", \"price\": 1.00, \"stock_quantity\": 1}", 400)));
		// Tomcat fails to read these two bodies; the error is answered through /error, as
		// problem+json too.
		rows.add(row("body shorter than its Content-Length",
				new Hostile("application/json", utf8("{\"name\": \"Probe\", \"pri"), Framing.SHORT_BODY, Set.of(400))));
		rows.add(row("broken chunked framing",
				new Hostile("application/json", utf8(VALID), Framing.BAD_CHUNKS, Set.of(400))));
		// Content types other than JSON
		rows.add(row("text/plain", typed("text/plain", VALID, 415)));
		rows.add(row("application/xml", typed("application/xml",
				"<product><name>Probe</name><price>1.00</price><stock_quantity>1</stock_quantity></product>", 415)));
		rows.add(row("form-urlencoded",
				typed("application/x-www-form-urlencoded", "name=Probe&price=1.00&stock_quantity=1", 415)));
		rows.add(row("multipart", typed("multipart/form-data; boundary=xyz",
				"--xyz\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nProbe\r\n--xyz--\r\n", 415)));
		rows.add(row("no Content-Type", typed(null, VALID, 415)));
		rows.add(row("JSON-like subtype", typed("application/json-patch+json", VALID, 415)));
		rows.add(row("malformed Content-Type", typed("application/", VALID, 400, 415)));
		rows.add(row("unknown charset", typed("application/json; charset=no-such-charset", VALID, 400, 415)));
		// Bodies over the limit
		String longDescription = product("\"Probe\"", "1.00", "1", "\"" + "d".repeat(70_000) + "\"");
		rows.add(row("over the limit with Content-Length", json(longDescription, 413)));
		rows.add(row("over the limit, chunked", chunked(longDescription, 413)));
		rows.add(row("over the limit, chunked, padded with whitespace", chunked(" ".repeat(LIMIT + 10) + VALID, 413)));
		rows.add(row("over the limit and not JSON", typed("text/plain", "x".repeat(LIMIT + 1), 413, 415)));
		String hugeName = product("\"" + "n".repeat(200_001) + "\"", "1.00", "1", null);
		rows.add(row("name of 200 001 characters", json(hugeName, 413)));
		rows.add(row("name of 200 001 characters, chunked", chunked(hugeName, 413)));
		rows.add(row("name of 201 characters", json(product("\"" + "n".repeat(201) + "\"", "1.00", "1", null), 400)));
		rows.add(row("name of spaces only", json(product("\"    \"", "1.00", "1", null), 400)));
		rows.add(row("description of 2001 characters",
				json(product("\"Probe\"", "1.00", "1", "\"" + "d".repeat(2001) + "\""), 400)));
		// Nesting
		rows.add(row("10 000 nested arrays", json("[".repeat(10_000), 400)));
		rows.add(row("10 000 nested arrays, closed", json("[".repeat(10_000) + "]".repeat(10_000), 400)));
		rows.add(row("10 000 nested objects", json("{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000), 400)));
		rows.add(row("nested arrays as the name",
				json(product("[".repeat(40) + "]".repeat(40), "1.00", "1", null), 400)));
		rows.add(row("deep object as the description",
				json(product("\"Probe\"", "1.00", "1", "{\"a\":".repeat(40) + "1" + "}".repeat(40)), 400)));
		// Prices
		for (String price : List.of("NaN", "Infinity", "-Infinity", "+1.00", "1e400", "-1e400", "1e999999999",
				"1e-999999999", "-1", "-0.01", "1.999", "0.001", "1000000000000000", "\"12\"", "\"1.00\"", "true",
				"[1.00]", "{\"amount\": 1}", ".5", "1.", "01.00", "0x10")) {
			rows.add(row("price " + price, json(product("\"Probe\"", price, "1", null), 400)));
		}
		// Stock quantities
		for (String stock : List.of("2147483648", "-2147483649", "9223372036854775808", "-1", "1.5", "1.0", "1e3",
				"1e400", "\"5\"", "true", "[1]", "NaN")) {
			rows.add(row("stock_quantity " + stock, json(product("\"Probe\"", "1.00", stock, null), 400)));
		}
		rows.add(row("quantity alias -1", json("{\"name\": \"Probe\", \"price\": 1.00, \"quantity\": -1}", 400)));
		// Names of the wrong type, and fields that do not exist
		for (String name : List.of("5", "1.5", "true", "[\"Probe\"]", "{\"en\": \"Probe\"}")) {
			rows.add(row("name " + name, json(product(name, "1.00", "1", null), 400)));
		}
		rows.add(row("description as a number", json(product("\"Probe\"", "1.00", "1", "42"), 400)));
		for (String field : List.of("colour", "id", "version", "created_at", "Name", "stockQuantity", "__proto__",
				"")) {
			rows.add(row("unknown field '" + field + "'",
					json("{\"name\": \"Probe\", \"price\": 1.00, \"stock_quantity\": 1, \"" + field + "\": 1}", 400)));
		}
		// Control characters in names, escaped so that the JSON itself is valid: a name
		// is shown to
		// people and written to logs and terminals, so they are refused.
		for (String control : List.of("\\u0000", "\\u0001", "\\u0007", "\\u0008", "\\u001b[31m", "\\t", "\\n", "\\r",
				"\\u001f")) {
			rows.add(row("escaped control " + control + " in the name",
					json(product("\"a" + control + "b\"", "1.00", "1", null), 400)));
		}
		rows.add(row("name that is just NUL", json(product("\"\\u0000\"", "1.00", "1", null), 400)));
		// Format characters (category Cf) make a name display differently from what it
		// is:
		// bidi overrides reverse it, zero-width ones hide inside it. The joiners (U+200C,
		// U+200D) stay allowed: Persian, Indic scripts and emoji sequences need them.
		for (String format : List.of("\\u202e", "\\u202d", "\\u2066", "\\u2069", "\\u200e", "\\u200f", "\\u061c",
				"\\u200b", "\\u2060", "\\ufeff", "\\u00ad", "\\udb40\\udc41")) {
			rows.add(row("format character " + format + " in the name",
					json(product("\"ab" + format + "cd\"", "1.00", "1", null), 400)));
		}
		// Bytes that are not UTF-8, including the overlong forms (C0 AF for "/", C0 80
		// for NUL) and
		// sequences above U+10FFFF that Jackson's own decoder would let through.
		Map<String, byte[]> invalid = new LinkedHashMap<>();
		invalid.put("bad continuation C3 28", bytes(0xC3, 0x28));
		invalid.put("byte FF", bytes(0xFF));
		invalid.put("byte FE", bytes(0xFE));
		invalid.put("lone continuation 80", bytes(0x80));
		invalid.put("overlong slash C0 AF", bytes(0xC0, 0xAF));
		invalid.put("overlong NUL C0 80", bytes(0xC0, 0x80));
		invalid.put("truncated sequence E2 82", bytes(0xE2, 0x82));
		invalid.put("encoded surrogate ED A0 80", bytes(0xED, 0xA0, 0x80));
		invalid.put("above U+10FFFF F4 90 80 80", bytes(0xF4, 0x90, 0x80, 0x80));
		invalid.put("five-byte form F8 88 80 80 80", bytes(0xF8, 0x88, 0x80, 0x80, 0x80));
		invalid.forEach((name, sequence) -> rows.add(row("invalid UTF-8: " + name,
				new Hostile("application/json",
						concat(utf8("{\"name\": \"a"), sequence, utf8("b\", \"price\": 1.00, \"stock_quantity\": 1}")),
						Framing.CONTENT_LENGTH, Set.of(400)))));
		rows.add(row("invalid UTF-8 outside strings", new Hostile("application/json",
				concat(bytes(0xFF, 0xFE), utf8(VALID)), Framing.CONTENT_LENGTH, Set.of(400))));
		return rows.stream();
	}

	static Stream<Arguments> trickyIds() {
		return Stream.of(argumentSet("1;x=y", "1;x=y"), argumentSet("1%20", "1%20"), argumentSet("%201", "%201"),
				argumentSet("+1", "+1"), argumentSet("0x10", "0x10"), argumentSet("#10 (%2310)", "%2310"),
				argumentSet("fullwidth 1 (%EF%BC%91)", "%EF%BC%91"),
				argumentSet("9223372036854775808", "9223372036854775808"),
				argumentSet("-9223372036854775808", "-9223372036854775808"), argumentSet("1e1", "1e1"),
				argumentSet("1.0", "1.0"), argumentSet("-0", "-0"), argumentSet("%2B1 (encoded +)", "%2B1"),
				argumentSet("1%0A", "1%0A"));
	}

	static Stream<Arguments> trickyBatches() {
		String hundredAndOne = String.join(",", java.util.Collections.nCopies(101, "1"));
		String thousands = String.join(",", java.util.Collections.nCopies(1500, "1"));
		return Stream.of(argumentSet("empty", "ids="), argumentSet("a lone comma", "ids=,"),
				argumentSet("a trailing comma", "ids=1,"), argumentSet("a leading comma", "ids=,1"),
				argumentSet("an empty item", "ids=1,,2"), argumentSet("a space", "ids=1,%202"),
				argumentSet("plus sign", "ids=%2B1"), argumentSet("hex", "ids=0x10"), argumentSet("negative", "ids=-1"),
				argumentSet("zero", "ids=0"), argumentSet("decimal", "ids=1.0"),
				argumentSet("beyond a long", "ids=9223372036854775808"),
				argumentSet("fullwidth digit", "ids=%EF%BC%91"), argumentSet("encoded NUL", "ids=1%00"),
				argumentSet("markup", "ids=%3Cscript%3E"), argumentSet("semicolons", "ids=1;2"),
				argumentSet("101 ids", "ids=" + hundredAndOne), argumentSet("1,500 ids", "ids=" + thousands),
				argumentSet("ids twice", "ids=1&ids=2"), argumentSet("array syntax", "ids[]=1"),
				argumentSet("with a page", "ids=1&page=0"), argumentSet("with a filter", "ids=1&q=cup"),
				argumentSet("with a sort", "sort=price&ids=1"));
	}

	static Stream<Arguments> pathsTheContainerRefuses() {
		return Stream.of(argumentSet("..%2F1", "..%2F1"), argumentSet("%2e%2e%2F1", "%2e%2e%2F1"),
				argumentSet("%00", "%00"), argumentSet("1%00", "1%00"));
	}

	static Stream<Arguments> unicodeNames() {
		return Stream.of(argumentSet("café with a coffee cup", "Café ☕"), argumentSet("Japanese", "日本語の商品"),
				argumentSet("Hebrew", "שלום עולם"), argumentSet("Arabic", "مرحبا بالعالم"),
				argumentSet("Greek", "Ελληνικά"), argumentSet("emoji outside the BMP", "Smile \uD83D\uDE42"),
				argumentSet("emoji ZWJ sequence", "\uD83D\uDC69\u200D\uD83D\uDCBB coder"),
				argumentSet("combining accent, not normalized", "Cafe\u0301"),
				argumentSet("Persian with a zero-width non-joiner", "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645"),
				argumentSet("mathematical letters", "\uD835\uDD18\uD835\uDD2B\uD835\uDD26"),
				argumentSet("200 accented letters", "é".repeat(200)),
				argumentSet("100 emoji (200 UTF-16 units)", "\uD83D\uDE42".repeat(100)));
	}

	private static Arguments row(String name, Hostile hostile) {
		return argumentSet(name, hostile);
	}

	private static Hostile json(String body, Integer... expected) {
		return new Hostile("application/json", utf8(body), Framing.CONTENT_LENGTH, Set.of(expected));
	}

	private static Hostile typed(String contentType, String body, Integer... expected) {
		return new Hostile(contentType, utf8(body), Framing.CONTENT_LENGTH, Set.of(expected));
	}

	private static Hostile chunked(String body, Integer... expected) {
		return new Hostile("application/json", utf8(body), Framing.CHUNKED, Set.of(expected));
	}

	private static String product(String name, String price, String stock, String description) {
		return "{\"name\": " + name + ", \"price\": " + price + ", \"stock_quantity\": " + stock
				+ ((description != null) ? ", \"description\": " + description : "") + "}";
	}

	private static byte[] utf8(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

	private static byte[] bytes(int... values) {
		byte[] bytes = new byte[values.length];
		IntStream.range(0, values.length).forEach((i) -> bytes[i] = (byte) values[i]);
		return bytes;
	}

	private static byte[] concat(byte[]... parts) {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		for (byte[] part : parts) {
			out.writeBytes(part);
		}
		return out.toByteArray();
	}

	private void assertRefused(Answer answer, Set<Integer> expected) {
		assertThat(answer.status()).as(answer.toString()).isIn(expected).isBetween(400, 499);
		if (!answer.body().isEmpty()) {
			assertThat(answer.contentType()).as(answer.toString()).startsWith(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
			assertThat(answer.body()).as(answer.toString()).doesNotContain("\tat ", "Exception", "java.");
			JsonNode problem = JSON.readTree(answer.body());
			assertThat(problem.path("status").asInt()).as(answer.toString()).isEqualTo(answer.status());
			assertThat(problem.has("trace")).as(answer.toString()).isFalse();
		}
	}

	private void assertDuplicateRefused(String method, String path, String body) {
		long rows = rows();
		String before = read(this.existing);

		Answer answer = send(method, path, json(body, 400));

		assertRefused(answer, Set.of(400));
		assertThat(answer.body()).as(answer.toString()).contains("Duplicate field");
		assertThat(rows()).isEqualTo(rows);
		assertThat(read(this.existing)).isEqualTo(before);
	}

	private Answer send(String method, String path, Hostile hostile) {
		if (hostile != null && (hostile.framing() == Framing.SHORT_BODY || hostile.framing() == Framing.BAD_CHUNKS)) {
			return sendOnSocket(method, path, hostile);
		}
		BodyPublisher body = BodyPublishers.noBody();
		if (hostile != null) {
			byte[] bytes = hostile.body();
			body = (hostile.framing() == Framing.CHUNKED)
					? BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(bytes))
					: BodyPublishers.ofByteArray(bytes);
		}
		HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + path))
			.timeout(Duration.ofSeconds(20))
			.method(method, body);
		if (hostile != null && hostile.contentType() != null) {
			request.header("Content-Type", hostile.contentType());
		}
		try {
			HttpResponse<byte[]> response = CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
			return new Answer(method + " " + path, hostile, response.statusCode(),
					response.headers().firstValue("Content-Type").orElse(""),
					new String(response.body(), StandardCharsets.UTF_8));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * Sends a request whose framing is broken on purpose, then reads the answer up to the
	 * close.
	 */
	private Answer sendOnSocket(String method, String path, Hostile hostile) {
		ByteArrayOutputStream request = new ByteArrayOutputStream();
		StringBuilder head = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: localhost:" + this.port
				+ "\r\nConnection: close\r\nContent-Type: " + hostile.contentType() + "\r\n");
		if (hostile.framing() == Framing.SHORT_BODY) {
			head.append("Content-Length: ").append(hostile.body().length + 100).append("\r\n\r\n");
			request.writeBytes(utf8(head.toString()));
			request.writeBytes(hostile.body());
		}
		else {
			head.append("Transfer-Encoding: chunked\r\n\r\n");
			request.writeBytes(utf8(head.toString()));
			// "zz" is not a hexadecimal chunk size.
			request.writeBytes(utf8("zz\r\n"));
			request.writeBytes(hostile.body());
			request.writeBytes(utf8("\r\n0\r\n\r\n"));
		}
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress("localhost", this.port), 5_000);
			socket.setSoTimeout(20_000);
			OutputStream out = socket.getOutputStream();
			out.write(request.toByteArray());
			out.flush();
			// The client sends nothing more: the server sees the end of the stream where
			// it expected more body.
			socket.shutdownOutput();
			return parse(method + " " + path, hostile, readAll(socket.getInputStream()));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	private static byte[] readAll(InputStream in) throws IOException {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		byte[] buffer = new byte[8192];
		try {
			for (int n = in.read(buffer); n != -1; n = in.read(buffer)) {
				out.write(buffer, 0, n);
			}
		}
		catch (SocketTimeoutException ex) {
			// Whatever came before the timeout is the answer.
		}
		return out.toByteArray();
	}

	private static Answer parse(String request, Hostile hostile, byte[] raw) {
		String text = new String(raw, StandardCharsets.ISO_8859_1);
		int end = text.indexOf("\r\n\r\n");
		assertThat(end).as("an HTTP answer to " + request + ", got: " + text).isPositive();
		String[] lines = text.substring(0, end).split("\r\n");
		int status = Integer.parseInt(lines[0].split(" ")[1]);
		Map<String, String> headers = new LinkedHashMap<>();
		for (int i = 1; i < lines.length; i++) {
			int colon = lines[i].indexOf(':');
			headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
					lines[i].substring(colon + 1).trim());
		}
		byte[] body = Arrays.copyOfRange(raw, end + 4, raw.length);
		if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
			body = dechunk(body);
		}
		return new Answer(request, hostile, status, headers.getOrDefault("content-type", ""),
				new String(body, StandardCharsets.UTF_8));
	}

	private static byte[] dechunk(byte[] chunked) {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		int at = 0;
		while (at < chunked.length) {
			int lineEnd = indexOf(chunked, at);
			int size = Integer
				.parseInt(new String(chunked, at, lineEnd - at, StandardCharsets.ISO_8859_1).split(";")[0].trim(), 16);
			if (size == 0) {
				break;
			}
			out.write(chunked, lineEnd + 2, size);
			at = lineEnd + 2 + size + 2;
		}
		return out.toByteArray();
	}

	private static int indexOf(byte[] bytes, int from) {
		for (int i = from; i < bytes.length - 1; i++) {
			if (bytes[i] == '\r' && bytes[i + 1] == '\n') {
				return i;
			}
		}
		return bytes.length;
	}

	private long create(String body) {
		Map<String, Object> created = this.http.post()
			.uri("/products")
			.contentType(MediaType.APPLICATION_JSON)
			.body(body)
			.exchange()
			.expectStatus()
			.isCreated()
			.expectBody(JSON_OBJECT)
			.returnResult()
			.getResponseBody();
		return ((Number) created.get("id")).longValue();
	}

	private void ensureProductsUpTo(long id) {
		while (this.jdbc.queryForObject("SELECT MAX(id) FROM products", Long.class) < id) {
			create(VALID);
		}
		Set<Long> ids = new HashSet<>(
				this.jdbc.queryForList("SELECT id FROM products WHERE id IN (1, 16)", Long.class));
		assertThat(ids).as("products 1 and 16 exist, so that an id read as 1 or 16 would be found")
			.containsExactlyInAnyOrder(1L, 16L);
	}

	private String read(long id) {
		return this.http.get()
			.uri("/products/{id}", id)
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody(String.class)
			.returnResult()
			.getResponseBody();
	}

	private long rows() {
		return this.jdbc.queryForObject("SELECT COUNT(*) FROM products", Long.class);
	}

	private List<Map<String, Object>> table() {
		return this.jdbc.queryForList(
				"SELECT id, name, description, price_cents, stock_quantity, version, updated_at FROM products ORDER BY id");
	}

	/** How a hostile body is framed on the wire. */
	enum Framing {

		/** With a Content-Length that matches. */
		CONTENT_LENGTH,

		/**
		 * Chunked, with no Content-Length, so only the JSON parser's document limit
		 * applies.
		 */
		CHUNKED,

		/**
		 * A Content-Length 100 bytes longer than the body, then the client stops sending.
		 */
		SHORT_BODY,

		/** Chunked with a chunk size that is not hexadecimal. */
		BAD_CHUNKS

	}

	/**
	 * One hostile request body and the statuses that are right answers to it.
	 *
	 * @param contentType the Content-Type header, or null for none
	 * @param body the bytes sent
	 * @param framing how the body is framed
	 * @param expected the acceptable statuses
	 */
	record Hostile(String contentType, byte[] body, Framing framing, Set<Integer> expected) {

		@Override
		public String toString() {
			String text = new String(this.body, StandardCharsets.UTF_8);
			return this.framing + " " + this.contentType + " " + this.body.length + " bytes: "
					+ ((text.length() > 120) ? text.substring(0, 120) + "..." : text);
		}

	}

	record Answer(String request, Hostile hostile, int status, String contentType, String body) {

		@Override
		public String toString() {
			String shown = (this.body.length() > 500) ? this.body.substring(0, 500) + "..." : this.body;
			return this.request + " " + this.hostile + " -> " + this.status + " [" + this.contentType + "] " + shown;
		}

	}

}
