package com.example.catalog.cache;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.codec.ByteArrayCodec;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.stereotype.Component;

/**
 * Writes invalidation markers on a Redis connection of its own and, when the master that
 * took one has replicas, waits briefly ({@code WAIT 1}) until one of them has it too:
 * replication is asynchronous, and a replica promoted by a fail-over before it received a
 * marker would serve the entry that marker replaced. {@code WAIT} counts what the
 * connection itself wrote and blocks the connection meanwhile, hence a connection apart
 * from the shared one that serves reads; on a Cluster it runs on the connection to the
 * node owning the key's slot.
 */
@Component
class ReplicatedMarkers {

	private static final Logger logger = LoggerFactory.getLogger(ReplicatedMarkers.class);

	/** How long a marker waits for a replica's acknowledgement. */
	static final long ACKNOWLEDGEMENT_MILLIS = 100;

	/** How long what {@code ROLE} said about a master's replicas is trusted. */
	private static final long ROLE_CHECK_MILLIS = 1000;

	private final LettuceConnectionFactory connectionFactory;

	private final Object connecting = new Object();

	/** A {@link StatefulRedisConnection}, or a {@link StatefulRedisClusterConnection}. */
	private volatile StatefulConnection<byte[], byte[]> connection;

	/** Per connection to a master: whether it had replicas when last asked, and when. */
	private final Map<StatefulRedisConnection<byte[], byte[]>, Replicas> replicas = new ConcurrentHashMap<>();

	ReplicatedMarkers(LettuceConnectionFactory connectionFactory, RedisGuard guard) {
		this.connectionFactory = connectionFactory;
		// Its peer may be gone without closing it, as the shared connection's.
		guard.onOpen(this::reset);
	}

	/**
	 * Runs a marker script on the master of its key, then, if that master has replicas,
	 * waits up to {@value #ACKNOWLEDGEMENT_MILLIS} ms for one to acknowledge it. Throws
	 * when Redis fails; a missing acknowledgement is not a failure of Redis.
	 * @return the script's answer and whether the marker is known to be on a replica (or
	 * the master has none)
	 */
	Written write(RedisScript<Long> script, String key, byte[]... arguments) {
		StatefulRedisConnection<byte[], byte[]> master = masterOf(key);
		RedisCommands<byte[], byte[]> commands = master.sync();
		byte[][] keys = { key.getBytes(StandardCharsets.UTF_8) };
		long answer;
		try {
			answer = evaluate(commands, script, keys, arguments);
		}
		catch (RedisCommandTimeoutException silent) {
			// Its peer may be gone without closing it: connect afresh next time.
			reset();
			throw silent;
		}
		return new Written(answer, acknowledged(master));
	}

	/**
	 * Runs a marker script for each key, every command sent before any answer is awaited
	 * (one round trip per master instead of one per key), then waits once per master that
	 * has replicas, as {@link #write} does. Throws when Redis fails any of them.
	 * @param arguments each key's arguments, in the order they are sent
	 * @return per key, the script's answer and whether its marker is known to be on a
	 * replica
	 */
	Map<String, Written> writeAll(RedisScript<Long> script, Map<String, byte[][]> arguments) {
		Map<String, StatefulRedisConnection<byte[], byte[]>> masters = new LinkedHashMap<>();
		Map<String, RedisFuture<Long>> answers = new LinkedHashMap<>();
		arguments.forEach((key, keyArguments) -> {
			StatefulRedisConnection<byte[], byte[]> master = masterOf(key);
			masters.put(key, master);
			answers.put(key,
					master.async()
						.evalsha(script.getSha1(), ScriptOutputType.INTEGER,
								new byte[][] { key.getBytes(StandardCharsets.UTF_8) }, keyArguments));
		});
		Map<String, Long> answered = new LinkedHashMap<>();
		try {
			for (Map.Entry<String, RedisFuture<Long>> answer : answers.entrySet()) {
				// Its master's command timeout, and a second more.
				long deadline = System.nanoTime() + masters.get(answer.getKey()).getTimeout().plusSeconds(1).toNanos();
				answered.put(answer.getKey(),
						RedisGuard.await(answer.getValue(), deadline, "Markers were not answered in time"));
			}
		}
		catch (RedisCommandTimeoutException silent) {
			reset();
			throw silent;
		}
		catch (RedisNoScriptException notLoaded) {
			// A Redis restarted since the script was loaded: one by one, which loads it.
			Map<String, Written> written = new LinkedHashMap<>();
			arguments.forEach((key, keyArguments) -> written.put(key, write(script, key, keyArguments)));
			return written;
		}
		Map<StatefulRedisConnection<byte[], byte[]>, Boolean> acknowledged = new HashMap<>();
		Map<String, Written> written = new LinkedHashMap<>();
		answered.forEach((key, answer) -> written.put(key,
				new Written(answer, acknowledged.computeIfAbsent(masters.get(key), this::acknowledged))));
		return written;
	}

	private static long evaluate(RedisCommands<byte[], byte[]> commands, RedisScript<Long> script, byte[][] keys,
			byte[][] arguments) {
		try {
			return commands.evalsha(script.getSha1(), ScriptOutputType.INTEGER, keys, arguments);
		}
		catch (RedisNoScriptException notLoaded) {
			return commands.eval(script.getScriptAsString(), ScriptOutputType.INTEGER, keys, arguments);
		}
	}

	private boolean acknowledged(StatefulRedisConnection<byte[], byte[]> master) {
		try {
			if (!hasReplicas(master)) {
				return true;
			}
			// Waits for everything this connection wrote so far, this marker included.
			if (master.sync().waitForReplication(1, ACKNOWLEDGEMENT_MILLIS) >= 1) {
				return true;
			}
			// A master that lost its replicas meanwhile has nobody to fail over to.
			this.replicas.remove(master);
			return !hasReplicas(master);
		}
		catch (RuntimeException failed) {
			logger.debug("Could not learn whether a replica has the marker", failed);
			return false;
		}
	}

	private boolean hasReplicas(StatefulRedisConnection<byte[], byte[]> master) {
		long now = System.currentTimeMillis();
		Replicas known = this.replicas.get(master);
		if (known == null || now - known.checkedAt() > ROLE_CHECK_MILLIS) {
			// ROLE of a master: "master", its offset, then one entry per connected
			// replica.
			List<Object> role = master.sync().role();
			boolean any = role.size() > 2 && role.get(2) instanceof List<?> connected && !connected.isEmpty();
			known = new Replicas(any, now);
			this.replicas.put(master, known);
		}
		return known.any();
	}

	private StatefulRedisConnection<byte[], byte[]> masterOf(String key) {
		StatefulConnection<byte[], byte[]> current = connect();
		if (current instanceof StatefulRedisClusterConnection<byte[], byte[]> cluster) {
			RedisClusterNode node = cluster.getPartitions()
				.getMasterBySlot(SlotHash.getSlot(key.getBytes(StandardCharsets.UTF_8)));
			if (node == null) {
				throw new IllegalStateException("No Cluster master serves the slot of " + key);
			}
			return cluster.getConnection(node.getNodeId());
		}
		@SuppressWarnings("unchecked")
		StatefulRedisConnection<byte[], byte[]> single = (StatefulRedisConnection<byte[], byte[]>) current;
		return single;
	}

	private StatefulConnection<byte[], byte[]> connect() {
		StatefulConnection<byte[], byte[]> current = this.connection;
		if (current != null) {
			return current;
		}
		synchronized (this.connecting) {
			if (this.connection == null) {
				// The client Spring Boot configured: same address (or sentinels, or
				// Cluster nodes), credentials, TLS and fail-fast options.
				AbstractRedisClient client = this.connectionFactory.getRequiredNativeClient();
				this.connection = (client instanceof RedisClusterClient cluster)
						? cluster.connect(ByteArrayCodec.INSTANCE)
						: ((RedisClient) client).connect(ByteArrayCodec.INSTANCE);
			}
			return this.connection;
		}
	}

	private void reset() {
		synchronized (this.connecting) {
			if (this.connection != null) {
				this.connection.closeAsync();
				this.connection = null;
				this.replicas.clear();
			}
		}
	}

	@PreDestroy
	void close() {
		reset();
	}

	/**
	 * What a marker write did.
	 *
	 * @param answer what the script returned
	 * @param replicated whether a replica acknowledged it, or its master has none
	 */
	record Written(long answer, boolean replicated) {

	}

	private record Replicas(boolean any, long checkedAt) {

	}

}
