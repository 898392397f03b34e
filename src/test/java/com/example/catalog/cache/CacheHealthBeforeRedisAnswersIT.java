package com.example.catalog.cache;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.PackagedService;
import com.example.catalog.support.RedisFaultProxy;
import com.example.catalog.support.TestRedis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The packaged service started in front of a Redis that accepts connections and never
 * answers: what load balancers and container checks read from {@code /health} while the
 * first Redis command is still waiting. The cache is up only once Redis has answered. The
 * same start shows the jar's default log format, readable text lines
 * ({@link com.example.catalog.TracingIT} reads the JSON format): a start costs about 10
 * CPU seconds, and the ITs run CPU-bound.
 */
@Tag(PackagedService.TAG)
class CacheHealthBeforeRedisAnswersIT {

	private static final RedisFaultProxy proxy = RedisFaultProxy.start(TestRedis.host(), TestRedis.port());

	@AfterAll
	static void closeProxy() {
		proxy.close();
	}

	@Test
	void theCacheIsReportedUpOnlyOnceRedisHasAnswered() throws Exception {
		proxy.blackhole();
		Path folder = Files.createTempDirectory("catalog-cache-health-");
		Map<String, String> environment = Map.of("DATABASE_URL", "jdbc:sqlite:" + folder.resolve("catalog.db"),
				"REDIS_HOST", "127.0.0.1", "REDIS_PORT", Integer.toString(proxy.port()), "CATALOG_CACHE_KEYPREFIX",
				"health-" + UUID.randomUUID().toString().substring(0, 8) + ":product:",
				// Each unanswered command waits this long: the window in which a health
				// check used to find "up" without any answer from Redis.
				"REDIS_COMMAND_TIMEOUT", "3s", "REDIS_CONNECT_TIMEOUT", "3s");
		ExecutorService pollers = Executors.newFixedThreadPool(3);
		Path log = folder.resolve("service.log");
		try (PackagedService service = PackagedService.launch(environment, log)) {
			// Several health checks at once from the moment the port opens, as a load
			// balancer and a container check make them, until well past one command's
			// timeout.
			Set<String> seen = ConcurrentHashMap.newKeySet();
			AtomicLong firstAnswer = new AtomicLong();
			List<Future<Void>> polls = List.of(pollers.submit(() -> poll(service, seen, firstAnswer)),
					pollers.submit(() -> poll(service, seen, firstAnswer)),
					pollers.submit(() -> poll(service, seen, firstAnswer)));
			for (Future<Void> poll : polls) {
				poll.get(240, TimeUnit.SECONDS);
			}
			assertThat(seen).as("the cache of /health while Redis has never answered").containsOnly("down");

			proxy.pass();
			await().atMost(Duration.ofSeconds(30))
				.pollInterval(Duration.ofMillis(200))
				.untilAsserted(() -> assertThat(service.cacheHealth()).isEqualTo("up"));

			long id = service.create("Logged");
			for (int i = 0; i < 2; i++) {
				assertThat(service.send(HttpRequest.newBuilder(service.uri("/products/" + id))).statusCode())
					.isEqualTo(200);
			}
			await().atMost(Duration.ofSeconds(10))
				.pollInterval(Duration.ofMillis(100))
				.untilAsserted(() -> assertThat(Files.readAllLines(log))
					.as("the default log format: text lines, a cache hit among them")
					.anySatisfy((line) -> assertThat(line).endsWith(": CACHE HIT: " + id))
					.noneSatisfy((line) -> assertThat(line).startsWith("{")));
		}
		finally {
			pollers.shutdownNow();
		}
	}

	private static Void poll(PackagedService service, Set<String> seen, AtomicLong firstAnswer) throws Exception {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
		while (firstAnswer.get() == 0 || System.nanoTime() - firstAnswer.get() < TimeUnit.SECONDS.toNanos(8)) {
			assertThat(System.nanoTime()).as("the service answers within 180 s").isLessThan(deadline);
			try {
				seen.add(service.cacheHealth());
				firstAnswer.compareAndSet(0, System.nanoTime());
			}
			catch (IOException notYet) {
				service.requireRunning();
				Thread.sleep(50);
			}
		}
		return null;
	}

}
