package com.example.catalog.cache;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.DirectRedis;
import com.example.catalog.support.PackagedService;
import com.example.catalog.support.RedisFaultProxy;
import com.example.catalog.support.TestRedis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The packaged service killed with SIGKILL after a write committed and before its
 * invalidation reached Redis: the proxy in front of Redis holds the first command that
 * carries what a write leaves after its commit (an update's {@code value}, a delete's
 * {@code deleted} marker), and the process is killed while it waits. A new process on the
 * same database and Redis must not serve what the write replaced.
 */
@Tag(PackagedService.TAG)
class CrashBeforeInvalidationIT {

	private static final RedisFaultProxy proxy = RedisFaultProxy.start(TestRedis.host(), TestRedis.port());

	@AfterAll
	static void closeProxy() {
		proxy.close();
	}

	@Test
	void aCommittedWriteIsNeverHiddenByTheCacheAfterAKillBeforeItsInvalidation() throws Exception {
		Path folder = Files.createTempDirectory("catalog-invalidation-crash-");
		Map<String, String> environment = Map.of("DATABASE_URL", "jdbc:sqlite:" + folder.resolve("catalog.db"),
				"REDIS_HOST", "127.0.0.1", "REDIS_PORT", Integer.toString(proxy.port()), "CATALOG_CACHE_KEYPREFIX",
				"crash-" + UUID.randomUUID().toString().substring(0, 8) + ":product:", "CACHE_LOG_LEVEL", "WARN",
				// A loaded machine can take longer than the 250 ms defaults.
				"REDIS_COMMAND_TIMEOUT", "2s", "REDIS_CONNECT_TIMEOUT", "2s");
		Path log = folder.resolve("service.log");

		long updated;
		long deleted;
		try (PackagedService service = PackagedService.start(environment, log)) {
			updated = create(service, "Ledger");
			deleted = create(service, "Abacus");
			long warmUp = create(service, "Quill");
			// Every script has been loaded (a first call may send its text) and both
			// products are cached.
			send(service, "PUT", "/products/" + warmUp, "{\"price\": 2.00}");
			send(service, "DELETE", "/products/" + warmUp, null);
			for (long id : new long[] { updated, deleted }) {
				awaitCacheHit(service, id);
			}

			writeThenKill(service, "PUT", "/products/" + updated, "{\"price\": 3.00}", "$5\r\nvalue\r\n");
		}
		assertThat(entry(environment, updated)).as("the entry of the updated product")
			.doesNotContainEntry("state", "value");
		try (PackagedService service = PackagedService.start(environment, log)) {
			HttpResponse<String> read = send(service, "GET", "/products/" + updated, null);
			assertThat(read.statusCode()).isEqualTo(200);
			assertThat(read.body()).as("the committed update").contains("\"version\":1");

			// The provisional marker is only written while Redis answers: make sure it
			// does.
			awaitCacheHit(service, deleted);
			writeThenKill(service, "DELETE", "/products/" + deleted, null, "$7\r\ndeleted\r\n");
		}
		// What any instance started now would find (a restart costs the most time here).
		assertThat(entry(environment, deleted)).as("the entry of the deleted product")
			.doesNotContainEntry("state", "value");
	}

	/**
	 * Sends the write, waits until its final marker is on its way to Redis (the commit is
	 * done by then) and kills the process there.
	 */
	private void writeThenKill(PackagedService service, String method, String path, String body, String marker)
			throws Exception {
		proxy.holdFrom(marker);
		CompletableFuture<Void> write = CompletableFuture.runAsync(() -> {
			try {
				send(service, method, path, body);
			}
			catch (Exception killed) {
				// the process dies under it
			}
		});
		await().atMost(Duration.ofSeconds(10)).until(proxy::holdTriggered);
		service.kill();
		write.join();
		// The held command dies with its connection.
		proxy.resetConnections();
	}

	private static Map<Object, Object> entry(Map<String, String> environment, long id) {
		return DirectRedis.template()
			.opsForHash()
			.entries(environment.get("CATALOG_CACHE_KEYPREFIX") + ProductKeys.FORMAT + id);
	}

	private static void awaitCacheHit(PackagedService service, long id) {
		await().atMost(Duration.ofSeconds(20))
			.pollInterval(Duration.ofMillis(200))
			.until(() -> send(service, "GET", "/products/" + id, null).headers()
				.firstValue("X-Cache")
				.orElse("")
				.equals("HIT"));
	}

	private static long create(PackagedService service, String name) throws Exception {
		HttpResponse<String> created = send(service, "POST", "/products",
				"{\"name\": \"%s\", \"price\": 1.00, \"stock_quantity\": 1}".formatted(name));
		assertThat(created.statusCode()).isEqualTo(201);
		return Long.parseLong(created.headers().firstValue("Location").orElseThrow().replace("/products/", ""));
	}

	private static HttpResponse<String> send(PackagedService service, String method, String path, String body)
			throws Exception {
		HttpRequest.BodyPublisher publisher = (body != null) ? HttpRequest.BodyPublishers.ofString(body)
				: HttpRequest.BodyPublishers.noBody();
		return service.send(HttpRequest.newBuilder(service.uri(path))
			.header("Content-Type", "application/json")
			.method(method, publisher));
	}

}
