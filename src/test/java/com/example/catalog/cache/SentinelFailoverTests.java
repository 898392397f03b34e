package com.example.catalog.cache;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.RedisTopology;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The service on Redis Sentinel (one master, one replica, three sentinels started by the
 * test) while the master is killed under concurrent reads and writes. Production
 * timeouts.
 */
@IntegrationTest
class SentinelFailoverTests {

	private static final RedisTopology topology = RedisTopology.sentinel();

	private static final Pattern VERSION = Pattern.compile("\"version\":(\\d+)");

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry, "127.0.0.1", topology.serverPorts().get(0));
		registry.add("spring.data.redis.sentinel.master", () -> RedisTopology.MASTER_NAME);
		registry.add("spring.data.redis.sentinel.nodes", () -> RedisTopology.addresses(topology.sentinelPorts()));
	}

	@Autowired
	private RestTestClient http;

	@LocalServerPort
	private int port;

	@AfterAll
	static void stopTopology() {
		topology.close();
	}

	@Test
	void killingTheMasterCostsNoErrorsNoSlowRequestsAndCachingResumesOnTheNewMaster() throws Exception {
		List<Long> ids = new ArrayList<>();
		for (int i = 0; i < 20; i++) {
			long id = TestProducts.create(this.http, "Sentinel " + i, "5.00", 1);
			TestProducts.read(this.http, id);
			ids.add(id);
		}
		TestProducts.awaitCacheHit(this.http, ids.get(19));

		Map<Long, Long> acknowledged = new ConcurrentHashMap<>();
		ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
		AtomicBoolean running = new AtomicBoolean(true);
		HttpClient client = HttpClient.newHttpClient();
		ExecutorService load = Executors.newFixedThreadPool(4);
		List<Future<?>> workers = new ArrayList<>();
		for (int worker = 0; worker < 4; worker++) {
			workers.add(load.submit(() -> {
				while (running.get()) {
					long id = ids.get(ThreadLocalRandom.current().nextInt(ids.size()));
					boolean write = ThreadLocalRandom.current().nextInt(10) == 0;
					long mustSee = acknowledged.getOrDefault(id, 0L);
					HttpRequest.Builder request = HttpRequest.newBuilder(uri(id));
					if (write) {
						request.header("Content-Type", "application/json")
							.PUT(HttpRequest.BodyPublishers.ofString(
									"{\"stock_quantity\": %d}".formatted(ThreadLocalRandom.current().nextInt(1000))));
					}
					long begin = System.nanoTime();
					HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
					long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);
					if (response.statusCode() >= 500 || millis > 1000) {
						problems.add("%s %d: %d in %d ms".formatted(write ? "PUT" : "GET", id, response.statusCode(),
								millis));
					}
					Matcher version = VERSION.matcher(response.body());
					if (response.statusCode() == 200 && version.find()) {
						long seen = Long.parseLong(version.group(1));
						if (write) {
							acknowledged.merge(id, seen, Math::max);
						}
						else if (seen < mustSee) {
							problems.add("GET %d: version %d after %d was acknowledged".formatted(id, seen, mustSee));
						}
					}
				}
				return null;
			}));
		}

		Thread.sleep(1000);
		int oldMaster = topology.currentMasterPort();
		topology.kill(oldMaster);
		long killed = System.nanoTime();
		await().atMost(Duration.ofSeconds(10))
			.pollInterval(Duration.ofMillis(100))
			.until(() -> topology.currentMasterPort() != oldMaster && "HIT".equals(
					client.send(HttpRequest.newBuilder(uri(ids.get(0))).build(), HttpResponse.BodyHandlers.ofString())
						.headers()
						.firstValue("X-Cache")
						.orElse("")));
		System.out.printf("SENTINEL: caching resumed on the new master %d ms after the master was killed%n",
				TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed));
		Thread.sleep(2000);
		running.set(false);
		for (Future<?> worker : workers) {
			worker.get(30, TimeUnit.SECONDS);
		}
		load.shutdown();

		assertThat(problems).as("5xx, requests slower than 1 s, reads older than an acknowledged write").isEmpty();
		for (long id : ids) {
			long expected = acknowledged.getOrDefault(id, 0L);
			assertThat(((Number) TestProducts.read(this.http, id).getResponseBody().get("version")).longValue())
				.isGreaterThanOrEqualTo(expected);
		}
	}

	private URI uri(long id) {
		return URI.create("http://localhost:" + this.port + "/products/" + id);
	}

}
