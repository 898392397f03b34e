package com.example.catalog.cache;

import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringApplication;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Sentinel and Cluster variables reach Spring's properties only when they are set.
 */
class RedisTopologyEnvironmentTests {

	@Test
	void mapsSetVariablesToSpringProperties() {
		MockEnvironment environment = new MockEnvironment().withProperty("REDIS_SENTINEL_MASTER", "catalog")
			.withProperty("REDIS_SENTINEL_NODES", "s1:26379,s2:26379")
			.withProperty("REDIS_CLUSTER_NODES", " ");

		new RedisTopologyEnvironment().postProcessEnvironment(environment, new SpringApplication());

		assertThat(environment.getProperty("spring.data.redis.sentinel.master")).isEqualTo("catalog");
		assertThat(environment.getProperty("spring.data.redis.sentinel.nodes")).isEqualTo("s1:26379,s2:26379");
		assertThat(environment.containsProperty("spring.data.redis.cluster.nodes")).isFalse();
		assertThat(environment.containsProperty("spring.data.redis.sentinel.password")).isFalse();
	}

	@Test
	void leavesSpringsOwnSettingsFirst() {
		MockEnvironment environment = new MockEnvironment().withProperty("REDIS_CLUSTER_NODES", "a:1")
			.withProperty("spring.data.redis.cluster.nodes", "b:2");

		new RedisTopologyEnvironment().postProcessEnvironment(environment, new SpringApplication());

		assertThat(environment.getProperty("spring.data.redis.cluster.nodes")).isEqualTo("b:2");
	}

	@Test
	void setsNothingWithoutTheVariables() {
		MockEnvironment environment = new MockEnvironment();

		new RedisTopologyEnvironment().postProcessEnvironment(environment, new SpringApplication());

		assertThat(environment.containsProperty("spring.data.redis.sentinel.master")).isFalse();
	}

}
