package com.example.catalog.support;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.testcontainers.DockerClientFactory;

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

	private static volatile Endpoint endpoint;

	private static volatile RuntimeException failure;

	/** Kept reachable for the life of the JVM. */
	@SuppressWarnings("unused")
	private static DedicatedRedis server;

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
		String url = System.getenv("REDIS_TEST_URL");
		if (url != null && !url.isBlank()) {
			return fromUrl(url.trim());
		}
		if (!DedicatedRedis.available()) {
			throw new IllegalStateException(NO_REDIS_MESSAGE);
		}
		try {
			server = DedicatedRedis.start(Files.createTempDirectory("test-redis-"),
					(folder, port) -> List.of("--port", Integer.toString(port)));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		return new Endpoint(server.host(), server.port());
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

	static int freePort() {
		try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			ss.setReuseAddress(true);
			return ss.getLocalPort();
		}
		catch (IOException ex) {
			throw new IllegalStateException("Cannot find a free local port: " + ex.getMessage(), ex);
		}
	}

}
