package com.example.catalog.support;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * One real Redis per test JVM (REDIS_TEST_URL, else a Testcontainers container, else a
 * local redis-server child), so integration tests never depend on Docker being present.
 */
public final class TestRedis {

	/** Where the shared test Redis listens. */
	public static record Endpoint(String host, int port) {
	}

	static final String NO_REDIS_MESSAGE = "No Redis for integration tests: install redis-server (apt-get install -y redis-server), "
			+ "start a Docker engine, or set REDIS_TEST_URL=redis://host:port";

	static final String IMAGE = "redis:7-alpine";

	private static final int REDIS_PORT = 6379;

	private static final long STARTUP_DEADLINE_MS = 10_000;

	private static volatile Endpoint endpoint;

	private static volatile RuntimeException failure;

	/** Kept reachable for the life of the JVM. */
	@SuppressWarnings("unused")
	private static GenericContainer<?> container;

	@SuppressWarnings("unused")
	private static Process process;

	private TestRedis() {
	}

	public static String host() {
		return endpoint().host();
	}

	public static int port() {
		return endpoint().port();
	}

	public static Endpoint endpoint() {
		Endpoint e = endpoint;
		if (e != null) {
			return e;
		}
		synchronized (TestRedis.class) {
			if (endpoint != null) {
				return endpoint;
			}
			if (failure != null) {
				throw rethrow(failure);
			}
			try {
				endpoint = resolve();
				return endpoint;
			}
			catch (RuntimeException ex) {
				failure = ex;
				throw ex;
			}
		}
	}

	private static RuntimeException rethrow(RuntimeException cached) {
		// fresh exception (fresh stack trace for the caller), same one-line message
		return new IllegalStateException(cached.getMessage(), cached);
	}

	private static Endpoint resolve() {
		// (a) explicit URL wins
		String url = System.getenv("REDIS_TEST_URL");
		if (url != null && !url.isBlank()) {
			return fromUrl(url.trim());
		}

		Throwable containerFailure = null;
		// (b) Docker via Testcontainers
		if (dockerAvailable()) {
			try {
				return startContainer();
			}
			catch (Throwable ex) {
				containerFailure = ex;
			}
		}

		// (c) local redis-server binary
		Path exe = findOnPath("redis-server");
		if (exe != null) {
			return startRedisServer(exe);
		}

		// (d) nothing
		IllegalStateException ex = new IllegalStateException(NO_REDIS_MESSAGE);
		if (containerFailure != null) {
			ex.addSuppressed(containerFailure);
		}
		throw ex;
	}

	private static Endpoint fromUrl(String url) {
		String withScheme = url.contains("://") ? url : "redis://" + url;
		URI uri;
		try {
			uri = URI.create(withScheme);
		}
		catch (IllegalArgumentException ex) {
			throw new IllegalStateException("REDIS_TEST_URL is not a valid URL (expected redis://host:port): " + url);
		}
		if (uri.getHost() == null || uri.getHost().isEmpty()) {
			throw new IllegalStateException("REDIS_TEST_URL has no host (expected redis://host:port): " + url);
		}
		return new Endpoint(uri.getHost(), uri.getPort() > 0 ? uri.getPort() : REDIS_PORT);
	}

	static boolean dockerAvailable() {
		try {
			return DockerClientFactory.instance().isDockerAvailable();
		}
		catch (Throwable ex) {
			return false;
		}
	}

	private static Endpoint startContainer() {
		GenericContainer<?> redis = new GenericContainer<>(DockerImageName.parse(IMAGE)).withExposedPorts(REDIS_PORT);
		redis.start();
		container = redis;
		Runtime.getRuntime().addShutdownHook(new Thread(() -> {
			try {
				redis.stop();
			}
			catch (Throwable ignored) {
				// Ryuk reaps it anyway
			}
		}, "test-redis-container-stop"));
		return new Endpoint(redis.getHost(), redis.getMappedPort(REDIS_PORT));
	}

	static Path findOnPath(String name) {
		String path = System.getenv("PATH");
		if (path == null) {
			return null;
		}
		for (String dir : path.split(File.pathSeparator)) {
			if (dir.isEmpty()) {
				continue;
			}
			try {
				Path candidate = Path.of(dir, name);
				if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
					return candidate;
				}
			}
			catch (RuntimeException ignored) {
				// malformed PATH entry
			}
		}
		return null;
	}

	private static Endpoint startRedisServer(Path exe) {
		String lastProblem = "unknown";
		for (int attempt = 1; attempt <= 3; attempt++) {
			Path dir;
			try {
				dir = Files.createTempDirectory("test-redis-");
			}
			catch (IOException ex) {
				throw new IllegalStateException("Cannot create temp dir for redis-server: " + ex.getMessage(), ex);
			}
			int port = freePort();
			Path log = dir.resolve("redis.log");
			ProcessBuilder pb = new ProcessBuilder(List.of(exe.toString(), "--port", Integer.toString(port), "--bind",
					"127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir.toString(),
					"--logfile", "", "--loglevel", "warning"))
				.redirectErrorStream(true)
				.redirectOutput(log.toFile());
			Process p;
			try {
				p = pb.start();
			}
			catch (IOException ex) {
				deleteQuietly(dir);
				throw new IllegalStateException("Cannot start " + exe + ": " + ex.getMessage(), ex);
			}
			Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(p, dir), "test-redis-server-stop"));

			if (awaitPong(p, port)) {
				process = p;
				return new Endpoint("127.0.0.1", port);
			}
			lastProblem = p.isAlive() ? "no PONG within " + STARTUP_DEADLINE_MS + " ms"
					: "exited with code " + p.exitValue() + " (" + lastLine(log) + ")";
			stop(p, dir);
		}
		throw new IllegalStateException("redis-server (" + exe + ") did not start: " + lastProblem);
	}

	private static boolean awaitPong(Process p, int port) {
		long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STARTUP_DEADLINE_MS);
		while (System.nanoTime() < deadline) {
			if (!p.isAlive()) {
				return false;
			}
			if (ping("127.0.0.1", port)) {
				return true;
			}
			try {
				Thread.sleep(50);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return false;
			}
		}
		return false;
	}

	private static boolean ping(String host, int port) {
		try (Socket s = new Socket()) {
			s.connect(new InetSocketAddress(host, port), 250);
			s.setSoTimeout(500);
			OutputStream out = s.getOutputStream();
			out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
			out.flush();
			BufferedReader in = new BufferedReader(
					new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
			String line = in.readLine();
			return line != null && line.startsWith("+PONG");
		}
		catch (IOException ex) {
			return false;
		}
	}

	static int freePort() {
		try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			ss.setReuseAddress(true);
			return ss.getLocalPort();
		}
		catch (IOException ex) {
			throw new IllegalStateException("Cannot find a free local port: " + ex.getMessage(), ex);
		}
	}

	private static void stop(Process p, Path dir) {
		try {
			if (p.isAlive()) {
				p.destroy();
				if (!p.waitFor(5, TimeUnit.SECONDS)) {
					p.destroyForcibly();
					p.waitFor(2, TimeUnit.SECONDS);
				}
			}
		}
		catch (InterruptedException ex) {
			p.destroyForcibly();
			Thread.currentThread().interrupt();
		}
		catch (RuntimeException ignored) {
			// best effort
		}
		deleteQuietly(dir);
	}

	private static String lastLine(Path log) {
		try {
			List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
			for (int i = lines.size() - 1; i >= 0; i--) {
				if (!lines.get(i).isBlank()) {
					return lines.get(i).trim();
				}
			}
			return "no log output";
		}
		catch (IOException | RuntimeException ex) {
			return "no log output";
		}
	}

	private static void deleteQuietly(Path dir) {
		if (dir == null || !Files.exists(dir)) {
			return;
		}
		try (Stream<Path> walk = Files.walk(dir)) {
			walk.sorted(Comparator.reverseOrder()).forEach(f -> {
				try {
					Files.deleteIfExists(f);
				}
				catch (IOException ignored) {
					// best effort
				}
			});
		}
		catch (IOException | RuntimeException ignored) {
			// best effort
		}
	}

}
