package com.example.catalog.cache;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SocketOptions.KeepAliveOptions;
import io.lettuce.core.SocketOptions.TcpUserTimeoutOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.EpollProvider;
import io.lettuce.core.resource.ExtendedKeepAliveSupport;
import io.lettuce.core.resource.IOUringProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.data.redis.autoconfigure.ClientResourcesBuilderCustomizer;
import org.springframework.boot.data.redis.autoconfigure.DataRedisProperties;
import org.springframework.boot.data.redis.autoconfigure.LettuceClientOptionsBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.core.RedisTemplate;
import org.springframework.data.redis.serializer.RedisSerializer;

/**
 * Lettuce set to fail fast. Its defaults queue commands without bound while disconnected
 * and wait up to 60 s per command, so a dead Redis would stall every request; here
 * commands are rejected while disconnected and time out after
 * {@code REDIS_COMMAND_TIMEOUT}; the circuit breaker in {@link RedisGuard} then skips
 * Redis altogether, and drops the connection so that a peer that vanished without closing
 * it is not waited on again; TCP keepalive and TCP_USER_TIMEOUT close such a connection
 * in the kernel too, also where no request comes.
 */
@Configuration(proxyBeanMethods = false)
class RedisClientConfiguration {

	private static final Logger logger = LoggerFactory.getLogger(RedisClientConfiguration.class);

	private static final Duration USER_TIMEOUT = Duration.ofSeconds(10);

	@Bean
	LettuceClientOptionsBuilderCustomizer failFastClientOptions(DataRedisProperties redis) {
		Duration connectTimeout = (redis.getConnectTimeout() != null) ? redis.getConnectTimeout()
				: Duration.ofMillis(250);
		return (options) -> {
			options.disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
				.requestQueueSize(10_000)
				.autoReconnect(true)
				.timeoutOptions(TimeoutOptions.enabled())
				.socketOptions(socketOptions(connectTimeout));
			if (options instanceof ClusterClientOptions.Builder cluster) {
				cluster.topologyRefreshOptions(topologyRefresh(redis.getLettuce().getCluster().getRefresh()));
			}
		};
	}

	// Spring Boot's refresh settings, with every adaptive trigger (a node failing, a
	// MOVED redirect), and one may follow the previous after 1 s, not Lettuce's default
	// 30 s. A refresh triggered by a master's death usually comes before its replica's
	// promotion and finds the dead master still in charge; the next one must come soon,
	// or that master's slots stay uncached until the periodic refresh.
	private static ClusterTopologyRefreshOptions topologyRefresh(DataRedisProperties.Lettuce.Cluster.Refresh refresh) {
		ClusterTopologyRefreshOptions.Builder options = ClusterTopologyRefreshOptions.builder()
			.dynamicRefreshSources(refresh.isDynamicRefreshSources())
			.enableAllAdaptiveRefreshTriggers()
			.adaptiveRefreshTriggersTimeout(Duration.ofSeconds(1));
		if (refresh.getPeriod() != null) {
			options.enablePeriodicRefresh(refresh.getPeriod());
		}
		return options.build();
	}

	// Probes an idle connection after 5 s and drops it after 3 unanswered probes 1 s
	// apart (~8 s), instead of Linux's 2 h + 9 x 75 s: connections used rarely (the
	// markers' own, Sentinel's, a Cluster's per node) are the ones the circuit breaker
	// does not replace. Where Lettuce cannot set these per socket (Netty's kqueue
	// transport, for one), plain SO_KEEPALIVE is what is left. TCP_USER_TIMEOUT would
	// also close a busy connection whose sent bytes stay unacknowledged for 10 s, but
	// Lettuce sets it on Netty's native epoll or io_uring only, and their linux-x86_64
	// jars are not on Maven Central for the Netty version Spring Boot manages (4.2.19);
	// the JDK's NIO cannot set it. It takes effect where such a transport is added.
	private static SocketOptions socketOptions(Duration connectTimeout) {
		SocketOptions.Builder socket = SocketOptions.builder().connectTimeout(connectTimeout);
		boolean userTimeout = IOUringProvider.isAvailable() || EpollProvider.isAvailable();
		if (userTimeout) {
			// Lettuce refuses to connect with it enabled on NIO.
			socket.tcpUserTimeout(TcpUserTimeoutOptions.builder().enable().tcpUserTimeout(USER_TIMEOUT).build());
		}
		logger.info("Redis connections: {} transport, keepalive probes {}, TCP_USER_TIMEOUT {}",
				IOUringProvider.isAvailable() ? "io_uring" : EpollProvider.isAvailable() ? "epoll" : "NIO",
				ExtendedKeepAliveSupport.isSupported() ? "after 5 s idle, 3 x 1 s" : "at the system's defaults",
				userTimeout ? USER_TIMEOUT.toSeconds() + " s" : "not available");
		if (ExtendedKeepAliveSupport.isSupported()) {
			return socket
				.keepAlive(KeepAliveOptions.builder()
					.enable()
					.idle(Duration.ofSeconds(5))
					.interval(Duration.ofSeconds(1))
					.count(3)
					.build())
				.build();
		}
		return socket.keepAlive(true).build();
	}

	// Lettuce backs off up to 30 s between reconnects by default; cap it so caching
	// resumes quickly.
	@Bean
	ClientResourcesBuilderCustomizer quickReconnect() {
		return (resources) -> resources
			.reconnectDelay(Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS));
	}

	@Bean
	RedisTemplate<String, byte[]> productCacheTemplate(RedisConnectionFactory connectionFactory) {
		RedisTemplate<String, byte[]> template = new RedisTemplate<>();
		template.setConnectionFactory(connectionFactory);
		template.setKeySerializer(RedisSerializer.string());
		template.setValueSerializer(RedisSerializer.byteArray());
		template.setHashKeySerializer(RedisSerializer.string());
		template.setHashValueSerializer(RedisSerializer.byteArray());
		// Callbacks get the connection itself, not a proxy made per call to stop them
		// closing it (none does): a proxy per hit showed in its profile.
		template.setExposeConnection(true);
		return template;
	}

}
