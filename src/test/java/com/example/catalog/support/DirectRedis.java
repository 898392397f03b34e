package com.example.catalog.support;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * A connection of the test's own to the real test Redis, which no fault proxy stands in
 * front of.
 */
public final class DirectRedis {

	private static StringRedisTemplate template;

	private DirectRedis() {
	}

	public static synchronized StringRedisTemplate template() {
		if (template == null) {
			LettuceConnectionFactory factory = new LettuceConnectionFactory(
					new RedisStandaloneConfiguration(TestRedis.host(), TestRedis.port()));
			factory.afterPropertiesSet();
			factory.start();
			template = new StringRedisTemplate(factory);
		}
		return template;
	}

}
