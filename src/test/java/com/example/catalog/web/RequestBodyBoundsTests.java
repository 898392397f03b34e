package com.example.catalog.web;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import jakarta.servlet.ServletContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.RawHttp;
import com.example.catalog.support.TestEnvironment;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;
import org.springframework.web.context.WebApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every request body is bounded in size and in time before anything reads it, whatever
 * its content type: an oversized form or multipart body is refused without being parsed
 * or spooled to disk, a body that trickles in is cut off at the deadline, and one client
 * cannot hold more than its share of the threads that read bodies.
 */
@IntegrationTest
class RequestBodyBoundsTests {

	private static final Duration ANSWER_WAIT = Duration.ofSeconds(15);

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
		registry.add("catalog.api.key", () -> "a-key-long-enough-for-tests");
		registry.add("catalog.api.body-read-timeout", () -> "2s");
		registry.add("catalog.api.body-reads-per-client", () -> "4");
	}

	@LocalServerPort
	private int port;

	@Autowired
	private WebApplicationContext context;

	@Autowired
	private RestTestClient http;

	@ParameterizedTest
	@ValueSource(strings = { "PUT", "PATCH", "DELETE" })
	void refusesAHugeFormBodyWithoutReadingIt(String method) {
		try (RawHttp connection = RawHttp.connect(this.port)) {
			connection.head(method + " /products/1 HTTP/1.1", "Content-Type: application/x-www-form-urlencoded",
					"Content-Length: 20000000");
			connection.send("a=1&".repeat(256).getBytes(StandardCharsets.US_ASCII));

			RawHttp.Answer answer = connection.awaitAnswer(ANSWER_WAIT);

			assertThat(answer).as("an answer before the body was sent").isNotNull();
			assertThat(answer.status()).isEqualTo(413);
		}
	}

	@Test
	void refusesAChunkedFormBodyOverTheLimitWithoutWaitingForItsEnd() {
		try (RawHttp connection = RawHttp.connect(this.port)) {
			connection.head("DELETE /products/1 HTTP/1.1", "Content-Type: application/x-www-form-urlencoded",
					"Transfer-Encoding: chunked");
			byte[] chunk = ("2000\r\n" + "a=1&".repeat(0x2000 / 4) + "\r\n").getBytes(StandardCharsets.US_ASCII);
			for (int i = 0; i < 9; i++) {
				connection.trySend(chunk);
			}

			RawHttp.Answer answer = connection.awaitAnswer(ANSWER_WAIT);

			assertThat(answer).as("an answer while the body is still coming").isNotNull();
			assertThat(answer.status()).isEqualTo(413);
		}
	}

	@Test
	void refusesAMultipartUploadWithoutWritingItToDisk() throws InterruptedException {
		Path temp = ((File) this.context.getServletContext().getAttribute(ServletContext.TEMPDIR)).toPath();
		String boundary = "b0undary";
		String part = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.bin\"\r\n"
				+ "Content-Type: application/octet-stream\r\n\r\n" + "x".repeat(20_000) + "\r\n";
		byte[] first = part.getBytes(StandardCharsets.US_ASCII);
		byte[] rest = (part + "--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
		List<String> seen = new ArrayList<>();
		try (RawHttp connection = RawHttp.connect(this.port)) {
			connection.head("POST /products HTTP/1.1", "Content-Type: multipart/form-data; boundary=" + boundary,
					"Content-Length: " + (first.length + rest.length));
			connection.send(first);
			// While the rest of the body is awaited, a parser that spools parts would
			// have written the first one to disk.
			for (int i = 0; i < 20; i++) {
				seen.addAll(uploads(temp));
				Thread.sleep(50);
			}
			connection.send(rest);

			RawHttp.Answer answer = connection.awaitAnswer(ANSWER_WAIT);

			assertThat(answer).isNotNull();
			assertThat(answer.status()).isEqualTo(415);
		}
		assertThat(seen).isEmpty();
	}

	@Test
	void cutsOffABodyThatTricklesPastTheDeadline() throws InterruptedException {
		try (RawHttp connection = RawHttp.connect(this.port)) {
			connection.head("POST /products HTTP/1.1", "Content-Type: application/json", "Content-Length: 1000",
					"X-API-Key: a-key-long-enough-for-tests");
			RawHttp.Answer answer = null;
			for (int i = 0; i < 50 && answer == null; i++) {
				connection.trySend(new byte[] { ' ' });
				answer = connection.awaitAnswer(Duration.ofMillis(300));
			}

			assertThat(answer).as("an answer within 15 s of trickling").isNotNull();
			assertThat(answer.status()).isEqualTo(408);
			assertThat(connection.closedByServerWithin(ANSWER_WAIT)).isTrue();
		}
	}

	@Test
	void oneClientCannotHoldMoreThanItsShareOfBodyReads() throws InterruptedException {
		List<RawHttp> slow = new ArrayList<>();
		try {
			for (int i = 0; i < 4; i++) {
				RawHttp connection = RawHttp.connect(this.port);
				slow.add(connection);
				connection.head("POST /products HTTP/1.1", "Content-Type: application/json", "Content-Length: 60000",
						"X-API-Key: a-key-long-enough-for-tests");
				connection.send(new byte[] { ' ' });
			}
			// Time for Tomcat to hand the four requests to the filter (well within the
			// 2 s deadline).
			Thread.sleep(500);
			try (RawHttp fifth = RawHttp.connect(this.port)) {
				fifth.head("POST /products HTTP/1.1", "Content-Type: application/json", "Content-Length: 60000",
						"X-API-Key: a-key-long-enough-for-tests");
				fifth.send(new byte[] { ' ' });

				RawHttp.Answer answer = fifth.awaitAnswer(Duration.ofSeconds(1));

				assertThat(answer).as("an answer at once, while four bodies are still coming").isNotNull();
				assertThat(answer.status()).isEqualTo(503);
				assertThat(answer.header("Retry-After")).isNotBlank();
			}
			this.http.get().uri("/health").exchange().expectStatus().isOk();
		}
		finally {
			slow.forEach(RawHttp::close);
		}
	}

	private static List<String> uploads(Path folder) {
		try (Stream<Path> files = Files.walk(folder)) {
			return files.map((file) -> file.getFileName().toString())
				.filter((name) -> name.startsWith("upload_"))
				.toList();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
