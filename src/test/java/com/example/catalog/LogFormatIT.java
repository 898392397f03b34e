package com.example.catalog;

import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import com.example.catalog.support.PackagedService;
import com.example.catalog.support.TestRedis;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The log formats of the packaged jar: readable text lines by default, and with
 * {@code LOG_FORMAT=json} one JSON object per line in which the cache lines carry their
 * outcome and product id as fields of their own.
 */
class LogFormatIT {

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
	private long runAndReadTwice(Path folder, Path log, Map<String, String> logSettings) throws Exception {
		// A key prefix of its own: the shared test Redis may hold entries for the same
		// ids from another test's service.
		Map<String, String> environment = new HashMap<>(logSettings);
		environment.putAll(Map.of("DATABASE_URL", "jdbc:sqlite:" + folder.resolve("catalog.db"), "REDIS_HOST",
				TestRedis.host(), "REDIS_PORT", Integer.toString(TestRedis.port()), "REDIS_COMMAND_TIMEOUT", "2s",
				"CATALOG_CACHE_KEYPREFIX", "log-format-" + UUID.randomUUID() + ":product:"));
		PackagedService service = PackagedService.start(environment, log);
		try {
			service.awaitCacheUp();
			long id = service.create("Logged");
			for (int i = 0; i < 2; i++) {
				assertThat(service.send(HttpRequest.newBuilder(service.uri("/products/" + id))).statusCode())
					.isEqualTo(200);
			}
			return id;
		}
		finally {
			service.stop();
		}
	}

}
