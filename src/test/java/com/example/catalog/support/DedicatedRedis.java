package com.example.catalog.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * A Redis of a test's own: the shared test Redis (see {@link TestRedis}), or one with
 * settings the shared one does not have (a password, TLS). A Testcontainers container
 * when Docker is available, else a {@code redis-server} child from PATH. The server's
 * files (certificates, say) live in a folder the test fills; arguments name them relative
 * to where the server sees that folder.
 */
public final class DedicatedRedis implements AutoCloseable {

	/** The server's arguments, given where it sees the folder and the port to serve. */
	@FunctionalInterface
	public interface Arguments {

		List<String> of(String folder, int port);

	}

	private static final String CONTAINER_FOLDER = "/redis-files";

	private static final int CONTAINER_PORT = 6379;

	private final String host;

	private final int port;

	private final AutoCloseable server;

	/**
	 * Stops the server and starts it again, empty, on the same port; null if it cannot.
	 */
	private final Runnable restart;

	private DedicatedRedis(String host, int port, AutoCloseable server, Runnable restart) {
		this.host = host;
		this.port = port;
		this.server = server;
		this.restart = restart;
	}

	/**
	 * Whether a dedicated Redis can be started here; with only {@code REDIS_TEST_URL} it
	 * cannot.
	 */
	public static boolean available() {
		return TestRedis.findOnPath("redis-server") != null || TestRedis.dockerAvailable();
	}

	public static DedicatedRedis start(Path folder, Arguments arguments) {
		Path executable = TestRedis.findOnPath("redis-server");
		if (TestRedis.dockerAvailable()) {
			try {
				return startContainer(folder, arguments);
			}
			catch (RuntimeException ex) {
				if (executable == null) {
					throw ex;
				}
				// no image, say: the local binary will do
			}
		}
		if (executable != null) {
			return startProcess(executable, folder, arguments);
		}
		throw new IllegalStateException(TestRedis.NO_REDIS_MESSAGE);
	}

	public String host() {
		return this.host;
	}

	public int port() {
		return this.port;
	}

	/**
	 * Whether {@link #restart} works: a {@code redis-server} child can be started again
	 * on its port, a container's port would change.
	 */
	public boolean restartable() {
		return this.restart != null;
	}

	/**
	 * Stops the server (SIGTERM, as an orchestrator would) and starts it again on the
	 * same port: it comes back empty (no persistence), and every client connection is
	 * gone.
	 */
	public void restart() {
		if (this.restart == null) {
			throw new UnsupportedOperationException("Only a redis-server child can be restarted on its port");
		}
		this.restart.run();
	}

	@Override
	public void close() {
		try {
			this.server.close();
		}
		catch (Exception ex) {
			// best effort: the shutdown hook stops a child, Ryuk a container
		}
	}

	// A free port can be taken by someone else before the server binds it: try again.
	private static DedicatedRedis startProcess(Path executable, Path folder, Arguments arguments) {
		IllegalStateException failure = null;
		for (int attempt = 0; attempt < 3; attempt++) {
			try {
				return startProcessOnce(executable, folder, arguments);
			}
			catch (IllegalStateException ex) {
				failure = ex;
			}
		}
		throw failure;
	}

	private static DedicatedRedis startProcessOnce(Path executable, Path folder, Arguments arguments) {
		int port = TestRedis.freePort();
		List<String> command;
		Path log;
		try {
			Path workFolder = Files.createTempDirectory("catalog-redis-");
			log = workFolder.resolve("redis.log");
			command = new ArrayList<>(List.of(executable.toString(), "--bind", "127.0.0.1", "--save", "",
					"--appendonly", "no", "--dir", workFolder.toString()));
			command.addAll(arguments.of(folder.toString(), port));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		AtomicReference<Process> process = new AtomicReference<>(launch(command, port, log));
		return new DedicatedRedis("127.0.0.1", port, () -> stop(process.get()), () -> {
			stop(process.get());
			process.set(launch(command, port, log));
		});
	}

	private static Process launch(List<String> command, int port, Path log) {
		Process process;
		try {
			process = new ProcessBuilder(command).redirectErrorStream(true)
				.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
				.start();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		// A JVM that ends without close() being called leaves its children running.
		Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly, "dedicated-redis-stop"));
		awaitListening(process, port, log);
		return process;
	}

	private static void stop(Process process) {
		process.destroy();
		try {
			if (!process.waitFor(5, TimeUnit.SECONDS)) {
				process.destroyForcibly();
				process.waitFor(5, TimeUnit.SECONDS);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private static DedicatedRedis startContainer(Path folder, Arguments arguments) {
		List<String> command = new ArrayList<>(List.of("redis-server", "--save", "", "--appendonly", "no"));
		command.addAll(arguments.of(CONTAINER_FOLDER, CONTAINER_PORT));
		GenericContainer<?> container = new GenericContainer<>(DockerImageName.parse(TestRedis.IMAGE))
			.withCopyFileToContainer(MountableFile.forHostPath(folder), CONTAINER_FOLDER)
			.withExposedPorts(CONTAINER_PORT)
			.withCommand(command.toArray(String[]::new));
		container.start();
		return new DedicatedRedis(container.getHost(), container.getMappedPort(CONTAINER_PORT), container::stop, null);
	}

	// A plain PING cannot tell readiness here (the port may want TLS or a password), so
	// wait until the port accepts connections.
	private static void awaitListening(Process process, int port, Path log) {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
		while (System.nanoTime() < deadline && process.isAlive()) {
			try (Socket socket = new Socket()) {
				socket.connect(new InetSocketAddress("127.0.0.1", port), 250);
				// someone else may hold the port, while ours exits on "address in use"
				sleep(100);
				if (process.isAlive()) {
					return;
				}
			}
			catch (IOException notYet) {
				sleep(50);
			}
		}
		process.destroyForcibly();
		throw new IllegalStateException("redis-server did not start: " + readQuietly(log));
	}

	private static String readQuietly(Path log) {
		try {
			return Files.readString(log).strip();
		}
		catch (IOException ex) {
			return "no log";
		}
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

}
