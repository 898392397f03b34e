package com.example.catalog.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.springframework.test.context.DynamicPropertyRegistry;

import static org.awaitility.Awaitility.await;

/**
 * Redis topologies started from {@code redis-server} on free ports, for the tests of
 * Sentinel and Cluster: everything started here stops with {@link #close()} (and with the
 * JVM).
 */
public final class RedisTopology implements AutoCloseable {

	/** The name the sentinels monitor the master under. */
	public static final String MASTER_NAME = "catalog";

	private final List<Node> nodes = new ArrayList<>();

	private final Path folder;

	/** The replica's link to its master, for Sentinel; null for Cluster. */
	private RedisFaultProxy replicationLink;

	private RedisTopology() {
		try {
			this.folder = Files.createTempDirectory("catalog-topology-");
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/**
	 * One master, one replica and three sentinels (quorum 2) that call the master down
	 * after 1 s. The replica replicates through a {@link #replicationLink() proxy}, so
	 * that a test can hold back what it receives.
	 */
	public static RedisTopology sentinel() {
		RedisTopology topology = new RedisTopology();
		try {
			Node master = topology.server("master");
			topology.replicationLink = RedisFaultProxy.start("127.0.0.1", master.port());
			topology.server("replica", "--replicaof", "127.0.0.1", Integer.toString(topology.replicationLink.port()));
			// Sentinels that found no master at their start could call it down.
			topology.awaitAnswering();
			for (int i = 0; i < 3; i++) {
				int port = topology.freePort();
				Path config = topology.folder.resolve("sentinel-" + i + ".conf");
				Files.writeString(config,
						String.join("\n", "port " + port, "bind 127.0.0.1", "dir " + topology.folder,
								"sentinel monitor " + MASTER_NAME + " 127.0.0.1 " + master.port() + " 2",
								"sentinel down-after-milliseconds " + MASTER_NAME + " 1000",
								// Sentinel points a replica that replicates from
								// another address (the proxy) straight at the master
								// once this long has passed since it saw it; far beyond
								// a test's run.
								"sentinel failover-timeout " + MASTER_NAME + " 120000", ""));
				topology.start("sentinel-" + i, port, List.of(config.toString(), "--sentinel"));
			}
			topology.awaitAnswering();
			// Fail-over needs the sentinels to know each other and the replica.
			await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).until(() -> {
				String state = cli(topology.sentinelPorts().get(0), "SENTINEL", "MASTER", MASTER_NAME);
				return state.contains("num-other-sentinels\n2") && state.contains("num-slaves\n1")
						&& cli(master.port(), "INFO", "replication").contains("state=online");
			});
			return topology;
		}
		catch (RuntimeException | IOException ex) {
			topology.close();
			throw (ex instanceof IOException io) ? new UncheckedIOException(io) : (RuntimeException) ex;
		}
	}

	/** Three masters in one Cluster, no replicas. */
	public static RedisTopology cluster() {
		return cluster(0);
	}

	/**
	 * Three masters in one Cluster, each with this many replicas; nodes call a silent
	 * peer failed after 1 s, and a replica takes over its master's slots.
	 */
	public static RedisTopology cluster(int replicasPerMaster) {
		RedisTopology topology = new RedisTopology();
		try {
			List<String> addresses = new ArrayList<>();
			for (int i = 0; i < 3 * (1 + replicasPerMaster); i++) {
				Node node = topology.server("cluster-" + i, "--cluster-enabled", "yes", "--cluster-config-file",
						topology.folder.resolve("nodes-" + i + ".conf").toString(), "--cluster-node-timeout",
						(replicasPerMaster > 0) ? "1000" : "2000");
				addresses.add("127.0.0.1:" + node.port());
			}
			topology.awaitAnswering();
			List<String> create = new ArrayList<>(List.of("--cluster", "create"));
			create.addAll(addresses);
			create.addAll(List.of("--cluster-replicas", Integer.toString(replicasPerMaster), "--cluster-yes"));
			cli(0, create.toArray(String[]::new));
			await().atMost(Duration.ofSeconds(30))
				.pollInterval(Duration.ofMillis(250))
				.until(() -> topology.nodes.stream()
					.allMatch((node) -> cli(node.port(), "CLUSTER", "INFO").contains("cluster_state:ok")
							&& (cli(node.port(), "ROLE").startsWith("master")
									|| cli(node.port(), "INFO", "replication").contains("master_link_status:up"))));
			return topology;
		}
		catch (RuntimeException ex) {
			topology.close();
			throw ex;
		}
	}

	/**
	 * The Sentinel replica's link to the master: silencing its live connections keeps
	 * from the replica whatever the master acknowledges meanwhile, as replication lag
	 * does.
	 */
	public RedisFaultProxy replicationLink() {
		return this.replicationLink;
	}

	/** Ports of the Cluster nodes that are masters now. */
	public List<Integer> clusterMasterPorts() {
		return serverPorts().stream().filter((port) -> cli(port, "ROLE").startsWith("master")).toList();
	}

	/** Ports of the data nodes (master first for Sentinel), not of the sentinels. */
	public List<Integer> serverPorts() {
		return this.nodes.stream().filter((node) -> !node.name().startsWith("sentinel")).map(Node::port).toList();
	}

	public List<Integer> sentinelPorts() {
		return this.nodes.stream().filter((node) -> node.name().startsWith("sentinel")).map(Node::port).toList();
	}

	/**
	 * Points the service at this topology: its sentinels when it has some, else its
	 * Cluster nodes (and the first server as the plain address the test support needs).
	 */
	public void register(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry, "127.0.0.1", serverPorts().get(0));
		if (sentinelPorts().isEmpty()) {
			registry.add("spring.data.redis.cluster.nodes", () -> addresses(serverPorts()));
		}
		else {
			registry.add("spring.data.redis.sentinel.master", () -> MASTER_NAME);
			registry.add("spring.data.redis.sentinel.nodes", () -> addresses(sentinelPorts()));
		}
	}

	/** {@code 127.0.0.1:port,...} of the given ports. */
	public static String addresses(List<Integer> ports) {
		return ports.stream().map((port) -> "127.0.0.1:" + port).collect(Collectors.joining(","));
	}

	/** The port of the node the sentinels call master now. */
	public int currentMasterPort() {
		String[] address = cli(sentinelPorts().get(0), "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME).split("\n");
		return Integer.parseInt(address[1].trim());
	}

	/** Kills the data node on this port with SIGKILL, as a crashed host would vanish. */
	public void kill(int port) {
		for (Node node : this.nodes) {
			if (node.port() == port) {
				node.process().destroyForcibly();
			}
		}
	}

	/** Runs redis-cli against a port (0: no -p) and returns what it printed. */
	public static String cli(int port, String... arguments) {
		List<String> command = new ArrayList<>(List.of("redis-cli"));
		if (port > 0) {
			command.addAll(List.of("-p", Integer.toString(port)));
		}
		command.addAll(List.of(arguments));
		try {
			Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
			String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			process.waitFor(30, TimeUnit.SECONDS);
			return output;
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	@Override
	public void close() {
		for (Node node : this.nodes) {
			node.process().destroyForcibly();
		}
		if (this.replicationLink != null) {
			this.replicationLink.close();
		}
	}

	private Node server(String name, String... arguments) {
		int port = freePort();
		List<String> command = new ArrayList<>(List.of("--port", Integer.toString(port), "--bind", "127.0.0.1",
				"--save", "", "--appendonly", "no", "--dir", this.folder.toString(),
				// A replica's first sync starts at once, not after the 5 s Redis waits by
				// default for more replicas to share one transfer.
				"--repl-diskless-sync-delay", "0"));
		command.addAll(List.of(arguments));
		return start(name, port, command);
	}

	/**
	 * Launches a node without waiting for it: the nodes of a topology start side by side,
	 * then {@link #awaitAnswering()} waits for them all.
	 */
	private Node start(String name, int port, List<String> arguments) {
		List<String> command = new ArrayList<>(List.of(TestRedis.findOnPath("redis-server").toString()));
		command.addAll(arguments);
		try {
			Process process = new ProcessBuilder(command).redirectErrorStream(true)
				.redirectOutput(this.folder.resolve(name + ".log").toFile())
				.start();
			Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly, "redis-topology-stop"));
			Node node = new Node(name, port, process);
			this.nodes.add(node);
			return node;
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/**
	 * A free port that no node of this topology was given: a node launched a moment ago
	 * may not listen on its own yet.
	 */
	private int freePort() {
		Set<Integer> taken = this.nodes.stream().map(Node::port).collect(Collectors.toSet());
		int port = TestRedis.freePort();
		while (taken.contains(port)) {
			port = TestRedis.freePort();
		}
		return port;
	}

	/** Waits until every node launched so far answers PING; fails if one exited. */
	private void awaitAnswering() {
		for (Node node : this.nodes) {
			await().atMost(Duration.ofSeconds(10))
				.pollDelay(Duration.ZERO)
				.pollInterval(Duration.ofMillis(50))
				.until(() -> cli(node.port(), "PING").contains("PONG") || !node.process().isAlive());
			if (!node.process().isAlive()) {
				throw new IllegalStateException(
						node.name() + " did not start; see " + this.folder.resolve(node.name() + ".log"));
			}
		}
	}

	private record Node(String name, int port, Process process) {
	}

}
