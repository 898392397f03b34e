package com.example.catalog.database;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.PackagedService;
import com.example.catalog.support.TestRedis;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Crash safety of the packaged service: writers create products while the process is
 * killed with SIGKILL; after a restart on the same SQLite file, every product
 * acknowledged with 201 is there with exactly the fields sent. Runs against the jar
 * {@code ./mvnw verify} just built.
 */
@Tag(PackagedService.TAG)
class CrashSafetyIT {

	@Test
	void everyAcknowledgedProductSurvivesAKill() throws Exception {
		Path database = Files.createTempDirectory("catalog-crash-").resolve("catalog.db");
		Map<String, String> environment = Map.of("DATABASE_URL", "jdbc:sqlite:" + database, "REDIS_HOST",
				TestRedis.host(), "REDIS_PORT", Integer.toString(TestRedis.port()), "CACHE_LOG_LEVEL", "WARN");
		Path log = database.resolveSibling("service.log");
		Map<Long, Sent> acknowledged = new ConcurrentHashMap<>();

		for (int round = 0; round < 2; round++) {
			try (PackagedService service = PackagedService.start(environment, log)) {
				writeUntilKilled(service, acknowledged);
			}
		}

		try (PackagedService service = PackagedService.start(environment, log)) {
			List<Long> missing = missingOrChanged(service, acknowledged);
			System.out.printf("CRASH: %d products acknowledged over 2 kills, %d missing or changed%n",
					acknowledged.size(), missing.size());
			assertThat(acknowledged).hasSizeGreaterThan(50);
			assertThat(missing).as("acknowledged products missing or changed after the kills").isEmpty();
		}
	}

	private List<Long> missingOrChanged(PackagedService service, Map<Long, Sent> acknowledged) throws Exception {
		// Eight at a time: a thousand reads one after the other took 5.5 s, these 0.7 s.
		ExecutorService readers = Executors.newFixedThreadPool(8);
		try {
			List<Future<Long>> reads = new ArrayList<>();
			for (Map.Entry<Long, Sent> product : acknowledged.entrySet()) {
				reads.add(readers.submit(() -> {
					HttpResponse<String> response = service
						.send(HttpRequest.newBuilder(service.uri("/products/" + product.getKey())));
					boolean intact = response.statusCode() == 200 && product.getValue().matches(response.body());
					return intact ? null : product.getKey();
				}));
			}
			List<Long> missing = new ArrayList<>();
			for (Future<Long> read : reads) {
				Long id = read.get(5, TimeUnit.MINUTES);
				if (id != null) {
					missing.add(id);
				}
			}
			return missing;
		}
		finally {
			readers.shutdownNow();
		}
	}

	private void writeUntilKilled(PackagedService service, Map<Long, Sent> acknowledged) throws Exception {
		ExecutorService writers = Executors.newFixedThreadPool(8);
		long killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2500);
		List<Future<?>> running = new ArrayList<>();
		for (int writer = 0; writer < 8; writer++) {
			running.add(writers.submit(() -> {
				while (service.isRunning()) {
					Sent sent = new Sent("Crash " + ThreadLocalRandom.current().nextLong(1_000_000_000L),
							"%d.%02d".formatted(ThreadLocalRandom.current().nextInt(10_000),
									ThreadLocalRandom.current().nextInt(100)),
							ThreadLocalRandom.current().nextInt(1000));
					try {
						HttpResponse<String> response = service.send(HttpRequest.newBuilder(service.uri("/products"))
							.header("Content-Type", "application/json")
							.POST(HttpRequest.BodyPublishers.ofString(sent.json())));
						if (response.statusCode() == 201) {
							long id = Long.parseLong(
									response.headers().firstValue("Location").orElseThrow().replace("/products/", ""));
							acknowledged.put(id, sent);
						}
					}
					catch (IOException killed) {
						// The service died mid-request: nothing was acknowledged.
					}
				}
				return null;
			}));
		}
		// At least 2.5 s of writes, and on a loaded machine on until this round has 30
		// acknowledged products (at most 60 s): 12 in 2.5 s were seen here at load 20.
		long latestKill = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
		int before = acknowledged.size();
		while (System.nanoTime() < killAt || (acknowledged.size() - before < 30 && System.nanoTime() < latestKill)) {
			Thread.sleep(50);
		}
		service.kill();
		for (Future<?> writer : running) {
			writer.get(30, TimeUnit.SECONDS);
		}
		writers.shutdown();
	}

	/**
	 * What a writer sent, and how to recognise it in the JSON the service answers with.
	 */
	private record Sent(String name, String price, int stockQuantity) {

		String json() {
			return "{\"name\":\"%s\",\"price\":%s,\"stock_quantity\":%d}".formatted(this.name, this.price,
					this.stockQuantity);
		}

		boolean matches(String product) {
			return product.contains("\"name\":\"" + this.name + "\",")
					&& product.contains("\"price\":" + this.price + ",")
					&& product.contains("\"stock_quantity\":" + this.stockQuantity + ",");
		}

	}

}
