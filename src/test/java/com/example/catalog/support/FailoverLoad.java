package com.example.catalog.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Concurrent reads and writes (one in ten a PUT) of a set of products over HTTP while a
 * test breaks Redis: collects every 5xx, every request slower than 1 s, and every read
 * that returned a version older than one already acknowledged for that product.
 */
public final class FailoverLoad {

	private static final Pattern VERSION = Pattern.compile("\"version\":(\\d+)");

	private final int port;

	private final List<Long> ids;

	private final HttpClient client = HttpClient.newHttpClient();

	private final Map<Long, Long> acknowledged = new ConcurrentHashMap<>();

	private final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();

	private final AtomicBoolean running = new AtomicBoolean(true);

	private final ExecutorService workers;

	private final List<Future<?>> started = new ArrayList<>();

	private FailoverLoad(int port, List<Long> ids, int workers) {
		this.port = port;
		this.ids = List.copyOf(ids);
		this.workers = Executors.newFixedThreadPool(workers);
		for (int i = 0; i < workers; i++) {
			this.started.add(this.workers.submit(this::work));
		}
	}

	/** Starts this many workers against the service on this port. */
	public static FailoverLoad start(int port, List<Long> ids, int workers) {
		return new FailoverLoad(port, ids, workers);
	}

	/** Whether a plain GET of the product is answered from the cache now. */
	public boolean isCacheHit(long id) throws Exception {
		return "HIT"
			.equals(this.client.send(HttpRequest.newBuilder(uri(id)).build(), HttpResponse.BodyHandlers.ofString())
				.headers()
				.firstValue("X-Cache")
				.orElse(""));
	}

	/** Stops the workers and returns what went wrong, one line per problem. */
	public List<String> stop() throws InterruptedException, ExecutionException, TimeoutException {
		this.running.set(false);
		for (Future<?> worker : this.started) {
			worker.get(30, TimeUnit.SECONDS);
		}
		this.workers.shutdown();
		return List.copyOf(this.problems);
	}

	/** The highest version acknowledged to a PUT of the product, 0 if none. */
	public long acknowledgedVersion(long id) {
		return this.acknowledged.getOrDefault(id, 0L);
	}

	private Void work() throws Exception {
		while (this.running.get()) {
			long id = this.ids.get(ThreadLocalRandom.current().nextInt(this.ids.size()));
			boolean write = ThreadLocalRandom.current().nextInt(10) == 0;
			long mustSee = acknowledgedVersion(id);
			HttpRequest.Builder request = HttpRequest.newBuilder(uri(id));
			if (write) {
				request.header("Content-Type", "application/json")
					.PUT(HttpRequest.BodyPublishers
						.ofString("{\"stock_quantity\": %d}".formatted(ThreadLocalRandom.current().nextInt(1000))));
			}
			long begin = System.nanoTime();
			HttpResponse<String> response = this.client.send(request.build(), HttpResponse.BodyHandlers.ofString());
			long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin);
			if (response.statusCode() >= 500 || millis > 1000) {
				this.problems
					.add("%s %d: %d in %d ms".formatted(write ? "PUT" : "GET", id, response.statusCode(), millis));
			}
			Matcher version = VERSION.matcher(response.body());
			if (response.statusCode() == 200 && version.find()) {
				long seen = Long.parseLong(version.group(1));
				if (write) {
					this.acknowledged.merge(id, seen, Math::max);
				}
				else if (seen < mustSee) {
					// Where it came from (X-Cache) tells a stale Redis entry from a stale
					// load or gutter copy.
					this.problems.add("GET %d: version %d after %d was acknowledged (X-Cache %s)".formatted(id, seen,
							mustSee, response.headers().firstValue("X-Cache").orElse("none")));
				}
			}
		}
		return null;
	}

	private URI uri(long id) {
		return URI.create("http://localhost:" + this.port + "/products/" + id);
	}

}
