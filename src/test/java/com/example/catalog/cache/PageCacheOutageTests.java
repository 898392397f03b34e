package com.example.catalog.cache;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.DirectRedis;
import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.RedisFaultProxy;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;
import com.example.catalog.support.TestRedis;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.EntityExchangeResult;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The list page cache while Redis fails: pages are served from the database, and a write
 * whose generation increment Redis could not take still makes every page cached before it
 * unreachable once Redis is back.
 */
@IntegrationTest
class PageCacheOutageTests {

	private static final RedisFaultProxy proxy = RedisFaultProxy.start(TestRedis.host(), TestRedis.port());

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry, "127.0.0.1", proxy.port());
	}

	@Autowired
	private RestTestClient http;

	@Autowired
	private CacheProperties cache;

	@AfterEach
	void redisComesBack() {
		proxy.pass();
	}

	@AfterAll
	static void closeProxy() {
		proxy.close();
	}

	@Test
	void neverServesAPageFromBeforeAWriteThatRedisCouldNotBeToldAbout() throws InterruptedException {
		String query = "q=" + token();
		long id = TestProducts.create(this.http, "Heater " + query.substring(2), "70.00", 1);
		awaitPage(query, "HIT", 70.0);
		proxy.refuse();

		this.http.put().uri("/products/{id}", id).contentType(MediaType.APPLICATION_JSON).body("""
				{"price": 65.00}""").exchange().expectStatus().isOk();
		// The page of 70.00 is still in Redis, out of the service's reach.
		assertThat(price(TestProducts.list(this.http, query))).isEqualTo(65.0);
		assertThat(TestProducts.list(this.http, query).getResponseHeaders().getFirst("X-Cache")).isEqualTo("BYPASS");
		proxy.pass();

		// Every answer from here on has the new price; caching resumes.
		awaitPage(query, "HIT", 65.0);
	}

	@Test
	void anInstanceThatServesNoListReadsAppliesItsDeferredIncrementWhenRedisReturns() throws InterruptedException {
		String query = "q=" + token();
		long id = TestProducts.create(this.http, "Kettle " + query.substring(2), "30.00", 1);
		awaitPage(query, "HIT", 30.0);
		String generationKey = this.cache.keyPrefix() + "generation";
		String before = DirectRedis.template().opsForValue().get(generationKey);
		proxy.refuse();

		this.http.put().uri("/products/{id}", id).contentType(MediaType.APPLICATION_JSON).body("""
				{"price": 25.00}""").exchange().expectStatus().isOk();
		proxy.pass();

		// No list read on this instance from here: other instances read the generation
		// from Redis, so it must move without one.
		long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
		while (before.equals(DirectRedis.template().opsForValue().get(generationKey))) {
			assertThat(System.nanoTime()).as("generation moved within 10 s of Redis's return").isLessThan(deadline);
			Thread.sleep(100);
		}
	}

	@Test
	void servesPagesFromTheDatabaseWhileRedisIsAway() {
		String query = "q=" + token();
		TestProducts.create(this.http, "Fan " + query.substring(2), "15.00", 1);
		proxy.blackhole();

		for (int i = 0; i < 3; i++) {
			EntityExchangeResult<Map<String, Object>> page = TestProducts.list(this.http, query);
			assertThat(page.getResponseHeaders().getFirst("X-Cache")).isEqualTo("BYPASS");
			assertThat(price(page)).isEqualTo(15.0);
		}
	}

	// Polls until the page comes from the cache as given (10 s at most); the price is
	// checked on every answer, not only the last: none may be older.
	private void awaitPage(String query, String cache, double price) throws InterruptedException {
		long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
		while (true) {
			EntityExchangeResult<Map<String, Object>> page = TestProducts.list(this.http, query);
			assertThat(price(page)).isEqualTo(price);
			if (cache.equals(page.getResponseHeaders().getFirst("X-Cache"))) {
				return;
			}
			assertThat(System.nanoTime()).as("X-Cache " + cache + " within 10 s").isLessThan(deadline);
			Thread.sleep(100);
		}
	}

	@SuppressWarnings("unchecked")
	private static double price(EntityExchangeResult<Map<String, Object>> page) {
		List<Map<String, Object>> items = (List<Map<String, Object>>) page.getResponseBody().get("items");
		assertThat(items).hasSize(1);
		return ((Number) items.get(0).get("price")).doubleValue();
	}

	private static String token() {
		return "t" + UUID.randomUUID().toString().substring(0, 8);
	}

}
