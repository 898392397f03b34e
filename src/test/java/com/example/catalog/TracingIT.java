package com.example.catalog;

import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import com.example.catalog.support.OtlpReceiver;
import com.example.catalog.support.PackagedService;
import com.example.catalog.support.TestRedis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The packaged jar configured the way a platform team configures any OpenTelemetry
 * service, with the standard {@code OTEL_*} variables only: spans reach the collector's
 * {@code /v1/traces} under the given service name, the sampler and its ratio apply, and a
 * request's JSON log lines carry its ids as ECS's {@code trace.id} and {@code span.id}.
 * With {@code LOG_FORMAT=json}, as here, every line is a JSON object, and the cache lines
 * carry their outcome and product id as fields of their own
 * ({@link com.example.catalog.cache.CacheHealthBeforeRedisAnswersIT} reads the text
 * format).
 */
@Tag(PackagedService.TAG)
class TracingIT {

	private final JsonMapper json = JsonMapper.builder().build();

	@Test
	void theStandardVariablesConfigureTheExportAndTheLogsCarryTheIds(@TempDir Path folder) throws Exception {
		Path log = folder.resolve("service.log");
		String traceId = UUID.randomUUID().toString().replace("-", "");
		long id;
		try (OtlpReceiver collector = OtlpReceiver.start()) {
			Map<String, String> environment = new HashMap<>();
			environment.put("DATABASE_URL", "jdbc:sqlite:" + folder.resolve("catalog.db"));
			environment.put("REDIS_HOST", TestRedis.host());
			environment.put("REDIS_PORT", Integer.toString(TestRedis.port()));
			environment.put("REDIS_COMMAND_TIMEOUT", "2s");
			environment.put("CATALOG_CACHE_KEYPREFIX", "tracing-" + UUID.randomUUID() + ":product:");
			environment.put("LOG_FORMAT", "json");
			// The traced read is a Redis hit, logged at INFO (a near hit logs at DEBUG).
			environment.put("CACHE_NEAR_ENABLED", "false");
			environment.put("OTEL_EXPORTER_OTLP_ENDPOINT", collector.baseUrl());
			environment.put("OTEL_TRACES_SAMPLER", "parentbased_traceidratio");
			environment.put("OTEL_TRACES_SAMPLER_ARG", "0");
			environment.put("OTEL_SERVICE_NAME", "catalog-under-test");
			environment.put("OTEL_BSP_SCHEDULE_DELAY", "100");
			PackagedService service = PackagedService.start(environment, log);
			try {
				service.awaitCacheUp();
				id = service.create("Traced");
				// Ratio 0: none of these is recorded (at the default 0.1, about 3 would
				// be).
				for (int i = 0; i < 30; i++) {
					service.send(HttpRequest.newBuilder(service.uri("/products/" + id)));
				}
				// Sampled upstream: recorded whatever the ratio.
				assertThat(service
					.send(HttpRequest.newBuilder(service.uri("/products/" + id))
						.header("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01"))
					.statusCode()).isEqualTo(200);

				await().atMost(Duration.ofSeconds(30))
					.pollInterval(Duration.ofMillis(100))
					.until(() -> collector.trace(traceId)
						.stream()
						.anyMatch((span) -> span.kind().equals("SPAN_KIND_SERVER")));
				Thread.sleep(500);
				assertThat(collector.paths()).isNotEmpty()
					.allSatisfy((path) -> assertThat(path).isEqualTo("/v1/traces"));
				assertThat(collector.spans()).as("only the sampled request's trace")
					.allSatisfy((span) -> assertThat(span.traceId()).isEqualTo(traceId))
					.allSatisfy((span) -> assertThat(span.service()).isEqualTo("catalog-under-test"))
					.extracting(OtlpReceiver.ReceivedSpan::name)
					.contains("http get /products/{id}", "cache.lookup");
			}
			finally {
				service.stop();
			}
		}

		List<String> written = Files.readAllLines(log);
		assertThat(written).as("every line is JSON")
			.isNotEmpty()
			.allSatisfy((line) -> assertThat(line).startsWith("{"));
		List<JsonNode> lines = written.stream().map(this.json::readTree).toList();
		assertThat(lines.stream()
			.filter((line) -> line.path("message").asString().startsWith("CACHE HIT"))
			.filter((line) -> traceId.equals(line.path("trace.id").asString())))
			.as("the traced request's cache line, with its ids")
			.singleElement()
			.satisfies((JsonNode line) -> assertThat(line.path("span.id").asString()).matches("[0-9a-f]{16}"));
		// The cache lines carry their outcome and product id as fields of their own.
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

}
