package com.example.catalog;

import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.example.catalog.support.PackagedService;
import com.example.catalog.support.TestRedis;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packaged jar's default log format: readable text lines. {@link TracingIT}, whose
 * jar runs with {@code LOG_FORMAT=json}, reads the JSON format: one object per line, the
 * cache lines with their outcome and product id as fields of their own.
 */
class LogFormatIT {

	@Test
	void textLogsStayReadable(@TempDir Path folder) throws Exception {
		Path log = folder.resolve("service.log");
		long id = runAndReadTwice(folder, log);

		assertThat(Files.readAllLines(log)).anySatisfy((line) -> assertThat(line).endsWith(": CACHE HIT: " + id))
			.noneSatisfy((line) -> assertThat(line).startsWith("{"));
	}

	// Starts the jar, creates a product and reads it twice (a miss, then a hit), stops
	// it.
	private long runAndReadTwice(Path folder, Path log) throws Exception {
		// A key prefix of its own: the shared test Redis may hold entries for the same
		// ids from another test's service.
		Map<String, String> environment = Map.of("DATABASE_URL", "jdbc:sqlite:" + folder.resolve("catalog.db"),
				"REDIS_HOST", TestRedis.host(), "REDIS_PORT", Integer.toString(TestRedis.port()),
				"REDIS_COMMAND_TIMEOUT", "2s", "CATALOG_CACHE_KEYPREFIX",
				"log-format-" + UUID.randomUUID() + ":product:");
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
