package com.example.catalog.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Many clients writing one product over HTTP at once: each client sends its requests one
 * after the other, and all clients are let go together. Collects every answer, with the
 * version and stock quantity a 200 reported, so a test can check that each write applied
 * and in which order.
 */
public final class OneProductStorm {

	private static final Pattern VERSION = Pattern.compile("\"version\":(\\d+)");

	private static final Pattern STOCK = Pattern.compile("\"stock_quantity\":(\\d+)");

	private final ExecutorService clients;

	private final List<Future<List<Answer>>> sent = new ArrayList<>();

	private final long started = System.nanoTime();

	private OneProductStorm(int clients, int requestsPerClient, Request request) {
		HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
		this.clients = Executors.newFixedThreadPool(clients);
		CountDownLatch start = new CountDownLatch(1);
		for (int client = 0; client < clients; client++) {
			int number = client;
			this.sent.add(this.clients.submit(() -> {
				List<Answer> answers = new ArrayList<>();
				start.await();
				for (int sequence = 0; sequence < requestsPerClient; sequence++) {
					answers.add(Answer
						.of(http.send(request.build(number, sequence).build(), HttpResponse.BodyHandlers.ofString())));
				}
				return answers;
			}));
		}
		start.countDown();
	}

	/**
	 * Starts the clients; {@link #answers()} waits for them. The request gets the
	 * client's number and the sequence number of the request within that client, both
	 * from 0.
	 */
	public static OneProductStorm start(int clients, int requestsPerClient, Request request) {
		return new OneProductStorm(clients, requestsPerClient, request);
	}

	/** Sends the requests and waits for every answer. */
	public static List<Answer> send(int clients, int requestsPerClient, Request request) throws Exception {
		return start(clients, requestsPerClient, request).answers();
	}

	/** Whether every client has had all its answers. */
	public boolean isDone() {
		return this.sent.stream().allMatch(Future::isDone);
	}

	/** Waits (up to 2 minutes) for every answer, in no particular order. */
	public List<Answer> answers() throws Exception {
		List<Answer> answers = new ArrayList<>();
		try {
			for (Future<List<Answer>> client : this.sent) {
				answers.addAll(client.get(2, TimeUnit.MINUTES));
			}
		}
		finally {
			this.clients.shutdownNow();
		}
		System.out.println("ONE PRODUCT STORM: " + statuses(answers) + " in "
				+ TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - this.started) + " ms");
		return answers;
	}

	/** How many answers had each status, for assertions and messages. */
	public static Map<Integer, Integer> statuses(List<Answer> answers) {
		Map<Integer, Integer> statuses = new TreeMap<>();
		answers.forEach((answer) -> statuses.merge(answer.status(), 1, Integer::sum));
		return statuses;
	}

	/** A request to {@code /products/<id>} of the service on this port. */
	public static HttpRequest.Builder request(int port, long id) {
		return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/products/" + id));
	}

	/** Builds the request a client sends next. */
	@FunctionalInterface
	public interface Request {

		HttpRequest.Builder build(int client, int sequence);

	}

	/**
	 * One answer: its status and, when the body holds a product, its version and stock
	 * quantity (else -1).
	 */
	public record Answer(int status, long version, int stock, String body) {

		static Answer of(HttpResponse<String> response) {
			return new Answer(response.statusCode(), number(VERSION, response.body()),
					(int) number(STOCK, response.body()), response.body());
		}

		private static long number(Pattern field, String body) {
			Matcher found = field.matcher(body);
			return found.find() ? Long.parseLong(found.group(1)) : -1;
		}

	}

}
