package com.example.catalog.cache;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SocketOptions.KeepAliveOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.ExtendedKeepAliveSupport;

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
 * it is not waited on again. (TCP_USER_TIMEOUT would do that in the kernel, but needs
 * Netty's native epoll, whose jars for the Netty version Boot 4.1.2 manages are not on
 * Maven Central.)
 */
@Configuration(proxyBeanMethods = false)
class RedisClientConfiguration {

	@Bean
	LettuceClientOptionsBuilderCustomizer failFastClientOptions(DataRedisProperties redis) {
		Duration connectTimeout = (redis.getConnectTimeout() != null) ? redis.getConnectTimeout()
				: Duration.ofMillis(250);
		return (options) -> options.disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
			.requestQueueSize(10_000)
			.autoReconnect(true)
			.timeoutOptions(TimeoutOptions.enabled())
			.socketOptions(socketOptions(connectTimeout));
	}

	// Probes an idle connection after 15 s and drops it after 3 unanswered probes 5 s
	// apart, instead of Linux's 2 h + 9 x 75 s. Where Lettuce cannot set these per
	// socket (Netty's kqueue transport, for one), plain SO_KEEPALIVE is what is left.
	private static SocketOptions socketOptions(Duration connectTimeout) {
		SocketOptions.Builder socket = SocketOptions.builder().connectTimeout(connectTimeout);
		if (ExtendedKeepAliveSupport.isSupported()) {
			return socket
				.keepAlive(KeepAliveOptions.builder()
					.enable()
					.idle(Duration.ofSeconds(15))
					.interval(Duration.ofSeconds(5))
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
