package com.example.catalog.cache;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Maps {@code REDIS_SENTINEL_MASTER}, {@code REDIS_SENTINEL_NODES},
 * {@code REDIS_SENTINEL_PASSWORD} and {@code REDIS_CLUSTER_NODES} to Spring's
 * {@code spring.data.redis.sentinel.*} and {@code spring.data.redis.cluster.nodes}, only
 * when they are set: an empty {@code spring.data.redis.sentinel.master} in
 * application.yml would already make Spring Boot configure a Sentinel connection.
 */
class RedisTopologyEnvironment implements EnvironmentPostProcessor {

	private static final Map<String, String> VARIABLES = Map.of("REDIS_SENTINEL_MASTER",
			"spring.data.redis.sentinel.master", "REDIS_SENTINEL_NODES", "spring.data.redis.sentinel.nodes",
			"REDIS_SENTINEL_PASSWORD", "spring.data.redis.sentinel.password", "REDIS_CLUSTER_NODES",
			"spring.data.redis.cluster.nodes");

	@Override
	public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
		Map<String, Object> properties = new LinkedHashMap<>();
		VARIABLES.forEach((variable, property) -> {
			String value = environment.getProperty(variable);
			if (value != null && !value.isBlank()) {
				properties.put(property, value.trim());
			}
		});
		if (!properties.isEmpty()) {
			// Last: an explicit spring.data.redis.* setting still wins.
			environment.getPropertySources().addLast(new MapPropertySource("redisTopologyVariables", properties));
		}
	}

}
