package com.example.catalog;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import com.example.catalog.support.TestRedis;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The log formats of the packaged jar: readable text lines by default, and with
 * {@code LOG_FORMAT=json} one JSON object per line in which the cache lines carry their
 * outcome and product id as fields of their own.
 */
class LogFormatIT {

	private final HttpClient client = HttpClient.newHttpClient();

	private final JsonMapper json = JsonMapper.builder().build();

	@Test
	void jsonLogsCarryTheCacheOutcomeAndIdAsFields(@TempDir Path folder) throws Exception {
		Path log = folder.resolve("service.log");
		long id = runAndReadTwice(folder, log, Map.of("LOG_FORMAT", "json"));

		List<JsonNode> lines = Files.readAllLines(log)
			.stream()
			.filter((line) -> line.startsWith("{"))
			.map(this.json::readTree)
			.toList();
		assertThat(lines).isNotEmpty();
		assertThat(Files.readAllLines(log)).as("every line is JSON")
			.allSatisfy((line) -> assertThat(line).startsWith("{"));
		assertThat(lines).anySatisfy((line) -> {
			assertThat(line.path("message").asString()).isEqualTo("CACHE MISS: " + id);
			assertThat(line.path("outcome").asString()).isEqualTo("miss");
			assertThat(line.path("id").asLong()).isEqualTo(id);
		});
		assertThat(lines).anySatisfy((line) -> {
			assertThat(line.path("message").asString()).isEqualTo("CACHE HIT: " + id);
			assertThat(line.path("outcome").asString()).isEqualTo("hit");
			assertThat(line.path("log.level").asString(line.path("log").path("level").asString())).isEqualTo("INFO");
		});
	}

	@Test
	void textLogsStayReadable(@TempDir Path folder) throws Exception {
		Path log = folder.resolve("service.log");
		long id = runAndReadTwice(folder, log, Map.of());

		assertThat(Files.readAllLines(log)).anySatisfy((line) -> assertThat(line).endsWith(": CACHE HIT: " + id))
			.noneSatisfy((line) -> assertThat(line).startsWith("{"));
	}

	// Starts the jar, creates a product and reads it twice (a miss, then a hit), stops
	// it.
	private long runAndReadTwice(Path folder, Path log, Map<String, String> environment) throws Exception {
		int port = freePort();
		// A key prefix of its own: the shared test Redis may hold entries for the same
		// ids from another test's service.
		ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
				"-Dcatalog.cache.key-prefix=log-format-" + UUID.randomUUID() + ":product:", "-jar", jar().toString());
		builder.environment().remove("LOG_FORMAT");
		builder.environment().put("API_PORT", Integer.toString(port));
		builder.environment().put("MANAGEMENT_PORT", "0");
		builder.environment().put("DATABASE_URL", "jdbc:sqlite:" + folder.resolve("catalog.db"));
		builder.environment().put("REDIS_HOST", TestRedis.host());
		builder.environment().put("REDIS_PORT", Integer.toString(TestRedis.port()));
		builder.environment().put("REDIS_COMMAND_TIMEOUT", "2s");
		builder.environment().putAll(environment);
		builder.redirectErrorStream(true).redirectOutput(log.toFile());
		Process service = builder.start();
		try {
			awaitHealthy(service, port, log);
			HttpResponse<String> created = this.client.send(HttpRequest.newBuilder(uri(port, "/products"))
				.header("Content-Type", "application/json")
				.POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"Logged\",\"price\":1.00,\"stock_quantity\":1}"))
				.build(), HttpResponse.BodyHandlers.ofString());
			assertThat(created.statusCode()).isEqualTo(201);
			long id = this.json.readTree(created.body()).path("id").asLong();
			for (int i = 0; i < 2; i++) {
				assertThat(get(port, "/products/" + id).statusCode()).isEqualTo(200);
			}
			return id;
		}
		finally {
			service.destroy();
			if (!service.waitFor(30, TimeUnit.SECONDS)) {
				service.destroyForcibly();
			}
		}
	}

	// Generous: on a machine whose cores other builds take, a start has been seen to need
	// 110 s. Waits for the cache too: a write before the first Redis command answered
	// defers its invalidation, and the reads after it bypass the cache.
	private void awaitHealthy(Process service, int port, Path log) throws Exception {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
		while (System.nanoTime() < deadline) {
			assertThat(service.isAlive()).as("service started; see %s", log).isTrue();
			try {
				HttpResponse<String> health = get(port, "/health");
				if (health.statusCode() == 200 && health.body().contains("\"cache\":\"up\"")) {
					return;
				}
			}
			catch (IOException notYet) {
				// not listening yet
			}
			Thread.sleep(200);
		}
		throw new IllegalStateException("The service did not answer /health within 300 s; see " + log);
	}

	private HttpResponse<String> get(int port, String path) throws Exception {
		return this.client.send(HttpRequest.newBuilder(uri(port, path)).build(), HttpResponse.BodyHandlers.ofString());
	}

	private static URI uri(int port, String path) {
		return URI.create("http://127.0.0.1:" + port + path);
	}

	private static int freePort() throws IOException {
		try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}

	private static Path jar() throws IOException {
		try (Stream<Path> files = Files.list(Path.of("target"))) {
			return files.filter((file) -> file.getFileName().toString().matches("product-catalog-.*\\.jar"))
				.findFirst()
				.orElseThrow(() -> new IllegalStateException("No packaged jar in target/: run ./mvnw verify"));
		}
	}

}
