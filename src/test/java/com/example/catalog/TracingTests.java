package com.example.catalog;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;

import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.OtlpReceiver;
import com.example.catalog.support.OtlpReceiver.ReceivedSpan;
import com.example.catalog.support.RedisFaultProxy;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;
import com.example.catalog.support.TestRedis;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The traces the service exports over OTLP, as a collector receives them: the span tree
 * of a miss, a hit, a negative hit and a write, a trace continued from a
 * {@code traceparent}, and a deferred invalidation linked to the write that deferred it.
 * Redis is reached through a fault proxy so that a write can find it gone.
 */
@IntegrationTest
class TracingTests {

	private static final OtlpReceiver collector = OtlpReceiver.start();

	private static final RedisFaultProxy proxy = RedisFaultProxy.start(TestRedis.host(), TestRedis.port());

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry, "127.0.0.1", proxy.port());
		TestEnvironment.relaxRedisTimeouts(registry);
		registry.add("management.opentelemetry.tracing.export.otlp.endpoint", () -> collector.baseUrl() + "/v1/traces");
		registry.add("management.opentelemetry.tracing.export.schedule-delay", () -> "50ms");
		registry.add("management.tracing.sampling.probability", () -> "1.0");
	}

	@Autowired
	private RestTestClient http;

	@Autowired
	private MeterRegistry meters;

	// The next test reads through the cache again only once the deferred invalidations
	// are applied.
	@AfterEach
	void redisAnswers() {
		proxy.pass();
		await().atMost(Duration.ofSeconds(60))
			.pollInterval(Duration.ofMillis(100))
			.until(() -> this.meters.get("catalog.cache.invalidations_pending").gauge().value() == 0);
	}

	@AfterAll
	static void close() {
		proxy.close();
		collector.close();
	}

	@Test
	void aMissReadsTheDatabaseAndFillsUnderTheRequestsSpan() {
		long id = TestProducts.create(this.http, "Traced miss", "3.00", 1);
		TestProducts.read(this.http, id);

		List<ReceivedSpan> trace = traceOf(lookup(id, "miss"));
		ReceivedSpan request = server(trace, "get");
		assertThat(request.name()).isEqualTo("http get /products/{id}");
		assertThat(request.service()).isEqualTo("product-catalog");
		assertThat(childrenOf(request, trace)).extracting(ReceivedSpan::name)
			.containsExactly("cache.lookup", "database.query", "cache.fill");
		assertThat(childrenOf(request, trace))
			.allSatisfy((span) -> assertThat(span.attribute("product.id")).isEqualTo(Long.toString(id)));
		assertThat(trace).as("no Redis command spans unless REDIS_COMMAND_METRICS").hasSize(4);
	}

	@Test
	void aHitIsOneLookupAndNothingElse() {
		long id = TestProducts.create(this.http, "Traced hit", "3.00", 1);
		TestProducts.read(this.http, id);
		TestProducts.awaitCacheHit(this.http, id);

		List<ReceivedSpan> trace = traceOf(lookup(id, "hit"));
		ReceivedSpan request = server(trace, "get");
		assertThat(childrenOf(request, trace)).extracting(ReceivedSpan::name).containsExactly("cache.lookup");
		assertThat(trace).hasSize(2);
	}

	@Test
	void aRememberedMissingProductIsANegativeHit() {
		long missing = 9_000_000_000L + System.nanoTime() % 1_000_000;
		for (int i = 0; i < 2; i++) {
			this.http.get().uri("/products/{id}", missing).exchange().expectStatus().isNotFound();
		}

		assertThat(childrenOf(server(traceOf(lookup(missing, "miss")), "get"), traceOf(lookup(missing, "miss"))))
			.extracting(ReceivedSpan::name)
			.containsExactly("cache.lookup", "database.query", "cache.fill");
		List<ReceivedSpan> negative = traceOf(lookup(missing, "negative_hit"));
		assertThat(childrenOf(server(negative, "get"), negative)).extracting(ReceivedSpan::name)
			.containsExactly("cache.lookup");
	}

	@Test
	void aWriteInvalidatesUnderItsRequestsSpan() {
		long id = TestProducts.create(this.http, "Traced write", "3.00", 1);
		TestProducts.update(this.http, id, "{\"price\": 4.00}");

		ReceivedSpan invalidation = awaitSpan((span) -> span.name().equals("cache.invalidate")
				&& span.attribute("product.id").equals(Long.toString(id))
				&& traceOf(span).stream().anyMatch((other) -> other.name().equals("http put /products/{id}")));
		assertThat(invalidation.attribute("cache.invalidation")).isEqualTo("applied");
		List<ReceivedSpan> trace = traceOf(invalidation);
		assertThat(invalidation.parentSpanId()).isEqualTo(server(trace, "put").spanId());
	}

	@Test
	void aRequestWithATraceparentContinuesThatTrace() {
		long id = TestProducts.create(this.http, "Traced upstream", "3.00", 1);
		String traceId = "4bf92f3577b34da6a3ce929d0e0e4736".substring(0, 20) + String.format("%012x", id);
		String parentSpanId = "00f067aa0ba902b7";

		this.http.get()
			.uri("/products/{id}", id)
			.header("traceparent", "00-" + traceId + "-" + parentSpanId + "-01")
			.exchange()
			.expectStatus()
			.isOk();

		ReceivedSpan request = awaitSpan(
				(span) -> span.traceId().equals(traceId) && span.kind().equals("SPAN_KIND_SERVER"));
		assertThat(request.parentSpanId()).isEqualTo(parentSpanId);
		assertThat(childrenOf(request, collector.trace(traceId))).extracting(ReceivedSpan::name)
			.startsWith("cache.lookup");
	}

	@Test
	void aDeferredInvalidationIsLinkedToTheWriteThatDeferredIt() {
		long id = TestProducts.create(this.http, "Traced deferral", "3.00", 1);
		proxy.refuse();
		TestProducts.update(this.http, id, "{\"price\": 5.00}");
		ReceivedSpan deferred = awaitSpan((span) -> span.name().equals("cache.invalidate")
				&& span.attribute("product.id").equals(Long.toString(id))
				&& "deferred".equals(span.attribute("cache.invalidation")));

		proxy.pass();

		ReceivedSpan applied = awaitSpan((span) -> span.name().equals("cache.invalidate.deferred")
				&& span.attribute("product.id").equals(Long.toString(id)));
		assertThat(applied.parentSpanId()).as("a trace of its own").isEmpty();
		assertThat(applied.traceId()).isNotEqualTo(deferred.traceId());
		assertThat(applied.links()).containsExactly(deferred.traceId() + "-" + deferred.spanId());
		assertThat(applied.attribute("cache.deferred_by.trace_id")).isEqualTo(deferred.traceId());
	}

	private static ReceivedSpan lookup(long id, String outcome) {
		return awaitSpan(
				(span) -> span.name().equals("cache.lookup") && Long.toString(id).equals(span.attribute("product.id"))
						&& outcome.equals(span.attribute("cache.outcome")));
	}

	private static ReceivedSpan awaitSpan(Predicate<ReceivedSpan> wanted) {
		return await().atMost(Duration.ofSeconds(20))
			.pollInterval(Duration.ofMillis(50))
			.until(() -> collector.spans().stream().filter(wanted).findFirst(), (found) -> found.isPresent())
			.orElseThrow();
	}

	// The whole trace of a span: its request's span ends last, so wait until it is there.
	private static List<ReceivedSpan> traceOf(ReceivedSpan span) {
		return await().atMost(Duration.ofSeconds(20))
			.pollInterval(Duration.ofMillis(50))
			.until(() -> collector.trace(span.traceId()),
					(trace) -> trace.stream().anyMatch((other) -> other.kind().equals("SPAN_KIND_SERVER")));
	}

	private static ReceivedSpan server(List<ReceivedSpan> trace, String method) {
		return trace.stream()
			.filter((span) -> span.kind().equals("SPAN_KIND_SERVER") && span.name().startsWith("http " + method))
			.findFirst()
			.orElseThrow(() -> new AssertionError("no server span in " + trace));
	}

	// In the order they started.
	private static List<ReceivedSpan> childrenOf(ReceivedSpan parent, List<ReceivedSpan> trace) {
		return trace.stream()
			.filter((span) -> span.parentSpanId().equals(parent.spanId()))
			.sorted(Comparator.comparingLong(ReceivedSpan::startNanos))
			.toList();
	}

}
