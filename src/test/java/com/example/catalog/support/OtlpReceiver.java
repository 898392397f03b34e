package com.example.catalog.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;

/**
 * A collector stand-in on a free local port: it accepts OTLP over HTTP/protobuf (what the
 * service exports), decodes each {@code ExportTraceServiceRequest} and keeps its spans,
 * so that a test can read the traces a request left.
 */
public final class OtlpReceiver implements AutoCloseable {

	private static final HexFormat HEX = HexFormat.of();

	private final HttpServer server;

	private final List<ReceivedSpan> spans = new CopyOnWriteArrayList<>();

	private final List<String> paths = new CopyOnWriteArrayList<>();

	private OtlpReceiver(HttpServer server) {
		this.server = server;
	}

	public static OtlpReceiver start() {
		try {
			HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
			OtlpReceiver receiver = new OtlpReceiver(server);
			server.createContext("/", receiver::receive);
			server.start();
			return receiver;
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/** The collector's base URL, as {@code OTEL_EXPORTER_OTLP_ENDPOINT} names it. */
	public String baseUrl() {
		return "http://127.0.0.1:" + this.server.getAddress().getPort();
	}

	/** Every span received so far, in arrival order. */
	public List<ReceivedSpan> spans() {
		return List.copyOf(this.spans);
	}

	/** The path of every request received so far. */
	public List<String> paths() {
		return List.copyOf(this.paths);
	}

	/** The spans of one trace. */
	public List<ReceivedSpan> trace(String traceId) {
		return this.spans.stream().filter((span) -> span.traceId().equals(traceId)).toList();
	}

	private void receive(HttpExchange exchange) throws IOException {
		try (exchange) {
			this.paths.add(exchange.getRequestURI().getPath());
			InputStream body = exchange.getRequestBody();
			if ("gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
				body = new GZIPInputStream(body);
			}
			ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(body.readAllBytes());
			for (ResourceSpans resource : request.getResourceSpansList()) {
				String service = attributes(resource.getResource().getAttributesList()).get("service.name");
				for (ScopeSpans scope : resource.getScopeSpansList()) {
					for (io.opentelemetry.proto.trace.v1.Span span : scope.getSpansList()) {
						this.spans.add(new ReceivedSpan(service, HEX.formatHex(span.getTraceId().toByteArray()),
								HEX.formatHex(span.getSpanId().toByteArray()),
								HEX.formatHex(span.getParentSpanId().toByteArray()), span.getName(),
								span.getKind().name(), span.getStartTimeUnixNano(),
								attributes(span.getAttributesList()),
								span.getLinksList()
									.stream()
									.map((link) -> HEX.formatHex(link.getTraceId().toByteArray()) + "-"
											+ HEX.formatHex(link.getSpanId().toByteArray()))
									.toList()));
					}
				}
			}
			byte[] answer = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
			exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
			exchange.sendResponseHeaders(200, answer.length);
			exchange.getResponseBody().write(answer);
		}
	}

	private static Map<String, String> attributes(List<KeyValue> keyValues) {
		Map<String, String> attributes = new LinkedHashMap<>();
		for (KeyValue keyValue : keyValues) {
			AnyValue value = keyValue.getValue();
			attributes.put(keyValue.getKey(), switch (value.getValueCase()) {
				case INT_VALUE -> Long.toString(value.getIntValue());
				case BOOL_VALUE -> Boolean.toString(value.getBoolValue());
				case DOUBLE_VALUE -> Double.toString(value.getDoubleValue());
				default -> value.getStringValue();
			});
		}
		return attributes;
	}

	@Override
	public void close() {
		this.server.stop(0);
	}

	/**
	 * One span as received.
	 *
	 * @param service the {@code service.name} of its resource
	 * @param traceId 32 hex digits
	 * @param spanId 16 hex digits
	 * @param parentSpanId 16 hex digits, or empty for a root span
	 * @param name the span's name
	 * @param kind {@code SPAN_KIND_SERVER}, {@code SPAN_KIND_INTERNAL}, ...
	 * @param startNanos when it started, in nanoseconds since the epoch
	 * @param attributes its attributes, values as text
	 * @param links {@code traceId-spanId} of each span it links to
	 */
	public record ReceivedSpan(String service, String traceId, String spanId, String parentSpanId, String name,
			String kind, long startNanos, Map<String, String> attributes, List<String> links) {

		public String attribute(String key) {
			return this.attributes.get(key);
		}

	}

}
