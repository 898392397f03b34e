package com.example.textbook;

import java.time.Duration;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.cache.RedisCacheConfiguration;
import org.springframework.data.redis.cache.RedisCacheManager;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.serializer.RedisSerializationContext.SerializationPair;
import org.springframework.data.redis.serializer.RedisSerializer;

/**
 * The Redis cache manager as Spring Data Redis's reference shows it: values as JSON, one hour's
 * TTL. (Boot's own cache auto-configuration, spring-boot-starter-cache, is not in the offline
 * Maven repository; it would build the same RedisCacheManager from this RedisCacheConfiguration.)
 */
@Configuration
class CacheConfig {

	@Bean
	RedisCacheConfiguration cacheConfiguration() {
		return RedisCacheConfiguration.defaultCacheConfig()
			.entryTtl(Duration.ofHours(1))
			.disableCachingNullValues()
			.serializeValuesWith(SerializationPair.fromSerializer(RedisSerializer.json()));
	}

	@Bean
	RedisCacheManager cacheManager(RedisConnectionFactory connectionFactory, RedisCacheConfiguration configuration) {
		return RedisCacheManager.builder(connectionFactory).cacheDefaults(configuration).build();
	}

}
