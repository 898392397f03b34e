package com.example.catalog.support;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The jar {@code ./mvnw verify} just built, run as a process of its own so that a test
 * can kill it with SIGKILL or read the log it writes. It runs from Spring Boot's
 * extracted layout of that jar ({@code java -Djarmode=tools -jar ... extract}), as the
 * image does.
 */
public final class PackagedService implements AutoCloseable {

	/**
	 * The tag of the classes that run this jar: failsafe selects them by it, with the
	 * {@link RunsAlone} classes.
	 */
	public static final String TAG = "packaged-jar";

	// A start costs ~8 CPU seconds (extracted layout, C1 only), once ~30 (fat jar, C2);
	// on a shared 2-core machine (load average 13-20 measured here during CI) a start has
	// taken 110 s of wall time.
	private static final int START_SECONDS = 300;

	private static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

	private static final JsonMapper json = JsonMapper.builder().build();

	private static final Path EXTRACTED = Path.of("target", "packaged-service");

	// Guarded by PackagedService.class: two test classes start services at once.
	private static Path applicationJar;

	private final Process process;

	private final int port;

	private final Path log;

	private PackagedService(Process process, int port, Path log) {
		this.process = process;
		this.port = port;
		this.log = log;
	}

	/**
	 * Starts the jar with these environment variables (on top of this JVM's) and waits
	 * until {@code /health} answers; its output is appended to {@code log}.
	 */
	public static PackagedService start(Map<String, String> environment, Path log) throws Exception {
		for (int attempt = 1;; attempt++) {
			long logged = Files.exists(log) ? Files.size(log) : 0;
			PackagedService service = launch(environment, log);
			try {
				return service.awaitHealth();
			}
			catch (IllegalStateException exited) {
				// A port drawn free can be taken before the service binds it (any
				// outgoing connection of a test running alongside may get it as its
				// local port): draw new ones.
				if (attempt == 3 || service.isRunning() || !loggedSince(log, logged, "was already in use")) {
					throw exited;
				}
			}
		}
	}

	private PackagedService awaitHealth() throws InterruptedException {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS);
		while (System.nanoTime() < deadline) {
			if (answers()) {
				return this;
			}
			Thread.sleep(50);
		}
		kill();
		throw new IllegalStateException(
				"The service did not answer /health within " + START_SECONDS + " s; see " + this.log);
	}

	private static boolean loggedSince(Path log, long offset, String text) throws IOException {
		byte[] bytes = Files.readAllBytes(log);
		int from = (int) Math.min(offset, bytes.length);
		return new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8).contains(text);
	}

	/**
	 * Starts the jar without waiting for it: for tests of what it answers while it
	 * starts.
	 */
	public static PackagedService launch(Map<String, String> environment, Path log) throws IOException {
		int port = freePort();
		// C1 only, with one compiler thread: a start then costs about 45 % less CPU, and
		// these tests check what the jar does, not how fast it does it. The jar's classes
		// are not verified as they load (the compiler checked them; about 17 % less CPU
		// per start again: failsafe's run is bound by CPU). The serial collector, as the
		// image runs it.
		ProcessBuilder builder = new ProcessBuilder(java(), "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1",
				"-XX:+UnlockDiagnosticVMOptions", "-XX:-BytecodeVerificationRemote", "-XX:+UseSerialGC", "-jar",
				extractedJar().toString());
		// The log format is the service's default unless a test names one: tests read
		// logs.
		builder.environment().remove("LOG_FORMAT");
		builder.environment().putAll(environment);
		builder.environment().put("API_PORT", Integer.toString(port));
		builder.environment().putIfAbsent("MANAGEMENT_PORT", Integer.toString(freePort()));
		builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
		return new PackagedService(builder.start(), port, log);
	}

	/** Whether {@code /health} answers 200 now; fails if the process has exited. */
	public boolean answers() throws InterruptedException {
		requireRunning();
		try {
			return send(HttpRequest.newBuilder(uri("/health"))).statusCode() == 200;
		}
		catch (IOException notYet) {
			return false;
		}
	}

	/**
	 * The cache's state in {@code /health}: {@code "up"}, {@code "down"}, or the whole
	 * body when it names neither.
	 */
	public String cacheHealth() throws IOException, InterruptedException {
		String body = send(HttpRequest.newBuilder(uri("/health"))).body();
		return body.contains("\"cache\":\"up\"") ? "up" : body.contains("\"cache\":\"down\"") ? "down" : body;
	}

	/**
	 * Waits until the cache is up: a write before the first Redis command answered defers
	 * its invalidation, and the reads after it bypass the cache.
	 */
	public void awaitCacheUp() {
		await().atMost(Duration.ofSeconds(60))
			.pollInterval(Duration.ofMillis(200))
			.until(() -> cacheHealth().equals("up"));
	}

	/** Creates a product over HTTP (201 expected) and returns its id. */
	public long create(String name) throws IOException, InterruptedException {
		HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/products"))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers
				.ofString("{\"name\":\"%s\",\"price\":1.00,\"stock_quantity\":1}".formatted(name))));
		assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
		return json.readTree(created.body()).path("id").asLong();
	}

	public boolean isRunning() {
		return this.process.isAlive();
	}

	/** Fails if the process has exited. */
	public void requireRunning() {
		if (!isRunning()) {
			throw new IllegalStateException("The service exited; see " + this.log);
		}
	}

	public URI uri(String path) {
		return URI.create("http://127.0.0.1:" + this.port + path);
	}

	public HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
		return client.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
	}

	/** SIGKILL: no shutdown hook, no graceful anything. */
	public void kill() throws InterruptedException {
		this.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
	}

	/** SIGTERM: a graceful shutdown, after which the log is complete. */
	public void stop() throws InterruptedException {
		this.process.destroy();
		if (!this.process.waitFor(30, TimeUnit.SECONDS)) {
			kill();
		}
	}

	@Override
	public void close() throws InterruptedException {
		kill();
	}

	/**
	 * The application jar of the packaged jar's extracted layout, extracted once per test
	 * JVM, and again whenever the packaged jar changed since.
	 */
	private static synchronized Path extractedJar() throws IOException {
		if (applicationJar != null) {
			return applicationJar;
		}
		Path jar = jar();
		// The image runs this layout (app.jar and lib/), so it is at least as faithful as
		// the fat jar; and a start from plain jars costs about a third less CPU than one
		// from the nested jars of the fat jar (7.6 vs 11.3 CPU s, C1 only).
		Path stamp = EXTRACTED.resolve(".extracted-from");
		String source = jar.getFileName() + " " + Files.size(jar) + " " + Files.getLastModifiedTime(jar).toMillis();
		// Extracted files keep the times of the jar's entries: the stamp says which jar
		// the extraction came from.
		if (!Files.isRegularFile(stamp) || !Files.readString(stamp).equals(source)) {
			extract(jar);
			Files.writeString(stamp, source);
		}
		applicationJar = EXTRACTED.resolve(jar.getFileName());
		return applicationJar;
	}

	private static void extract(Path jar) throws IOException {
		if (Files.exists(EXTRACTED)) {
			try (Stream<Path> files = Files.walk(EXTRACTED)) {
				for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
					Files.delete(file);
				}
			}
		}
		Path output = Files.createTempFile("catalog-extract-", ".log");
		Process extraction = new ProcessBuilder(java(), "-Djarmode=tools", "-jar", jar.toString(), "extract",
				"--destination", EXTRACTED.toString())
			.redirectErrorStream(true)
			.redirectOutput(output.toFile())
			.start();
		try {
			if (!extraction.waitFor(120, TimeUnit.SECONDS) || extraction.exitValue() != 0) {
				extraction.destroyForcibly();
				throw new IllegalStateException(
						"Could not extract " + jar + " into " + EXTRACTED + ": " + Files.readString(output));
			}
		}
		catch (InterruptedException ex) {
			extraction.destroyForcibly();
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while extracting " + jar, ex);
		}
		finally {
			Files.deleteIfExists(output);
		}
	}

	private static String java() {
		return Path.of(System.getProperty("java.home"), "bin", "java").toString();
	}

	private static Path jar() throws IOException {
		try (Stream<Path> files = Files.list(Path.of("target"))) {
			return files.filter((file) -> file.getFileName().toString().matches("product-catalog-.*\\.jar"))
				.findFirst()
				.orElseThrow(() -> new IllegalStateException("No packaged jar in target/: run ./mvnw verify"));
		}
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}

}
