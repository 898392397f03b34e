package com.example.catalog.database;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Order;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.RedisFaultProxy;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestRedis;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Many clients writing one product at once, on SQLite: the scenarios of
 * {@link WritesOfOneProductUnderContention}, in a class of their own so that they run
 * beside other classes while {@link SqliteConcurrencyTests} waits for the output lock.
 */
@IntegrationTest
@Order(1) // among the longest classes: started first (junit-platform.properties)
class SqliteWritesOfOneProductTests implements WritesOfOneProductUnderContention {

	private static final RedisFaultProxy proxy = RedisFaultProxy.start(TestRedis.host(), TestRedis.port());

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry, "127.0.0.1", proxy.port());
		TestEnvironment.relaxRedisTimeouts(registry);
	}

	@AfterAll
	static void closeProxy() {
		proxy.close();
	}

	@Override
	public RedisFaultProxy redisProxy() {
		return proxy;
	}

}
