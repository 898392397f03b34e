package com.example.catalog;

import io.opentelemetry.sdk.trace.export.SpanExporter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.ProcessOutput;
import com.example.catalog.support.RunsAlone;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.micrometer.tracing.opentelemetry.autoconfigure.otlp.OtlpTracingConnectionDetails;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The service as shipped, with no OTLP endpoint configured: no exporter exists (so
 * nothing is sent anywhere, no default collector address is tried), and the log lines of
 * a request still carry its trace and span ids.
 */
@IntegrationTest
@ExtendWith(ProcessOutput.class)
@RunsAlone // it reads the whole process's output
class TracingOffTests {

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
	}

	@Autowired
	private RestTestClient http;

	@Test
	void withoutAnEndpointThereIsNoExporter(@Autowired ApplicationContext context) {
		assertThat(context.getBeanNamesForType(SpanExporter.class)).isEmpty();
		assertThat(context.getBeanNamesForType(OtlpTracingConnectionDetails.class)).isEmpty();
	}

	@Test
	void aRequestsLogLinesCarryItsTraceAndSpanIds(CapturedOutput output) {
		long id = TestProducts.create(this.http, "Correlated", "2.00", 1);
		TestProducts.read(this.http, id);

		assertThat(output.getOut().lines().filter((line) -> line.endsWith(": CACHE MISS: " + id))).singleElement()
			.satisfies((line) -> assertThat(line).containsPattern("\\[[0-9a-f]{32}-[0-9a-f]{16}\\]"));
	}

}
