package com.example.catalog.support;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.example.catalog.CatalogApplication;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * Another instance of the service in the same JVM, sharing a test context's database
 * file, Redis and key prefix, as a second node behind a load balancer would.
 */
public final class SecondInstance implements AutoCloseable {

	private static final List<String> SHARED = List.of("spring.datasource.url", "spring.data.redis.host",
			"spring.data.redis.port", "spring.data.redis.timeout", "spring.data.redis.connect-timeout",
			"catalog.cache.key-prefix", "catalog.cache.ttl", "catalog.cache.near.enabled",
			"spring.flyway.default-schema");

	private final ConfigurableApplicationContext context;

	private SecondInstance(ConfigurableApplicationContext context) {
		this.context = context;
	}

	/**
	 * Starts an instance with the first one's database, Redis and key prefix, plus the
	 * given {@code name=value} properties.
	 */
	public static SecondInstance sharing(Environment first, String... properties) {
		Map<String, String> values = new LinkedHashMap<>();
		for (String name : SHARED) {
			String value = first.getProperty(name);
			if (value != null) {
				values.put(name, value);
			}
		}
		values.put("server.port", "0");
		// Not the default 8081, which another build on this machine may hold.
		values.put("management.server.port", "0");
		for (String property : properties) {
			String[] nameAndValue = property.split("=", 2);
			values.put(nameAndValue[0], nameAndValue[1]);
		}
		List<String> all = new ArrayList<>();
		values.forEach((name, value) -> all.add("--" + name + "=" + value));
		// Command-line arguments: default properties would lose to application.yml.
		return new SecondInstance(
				new SpringApplicationBuilder(CatalogApplication.class).run(all.toArray(String[]::new)));
	}

	public RestTestClient http() {
		int port = ((WebServerApplicationContext) this.context).getWebServer().getPort();
		return RestTestClient.bindToServer().baseUrl("http://localhost:" + port).build();
	}

	public ConfigurableApplicationContext context() {
		return this.context;
	}

	@Override
	public void close() {
		this.context.close();
	}

}
