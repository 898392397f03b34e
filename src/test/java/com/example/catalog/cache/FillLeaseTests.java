package com.example.catalog.cache;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.SecondInstance;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ApplicationContext;
import org.springframework.core.env.Environment;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.bean.override.mockito.MockitoSpyBean;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.reset;

/**
 * The fill lease across three instances on one database and one Redis (this test's
 * context and two more in the same JVM): many readers of one cold product, spread over
 * the instances, cost one database read; a holder that never fills, or fails, or whose
 * lease a write voids, keeps nobody waiting longer than the lease.
 */
@IntegrationTest
@Order(2) // among the longest classes: started first (junit-platform.properties)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FillLeaseTests {

	/**
	 * Long enough that waiting for a lease and not waiting tell apart on a busy machine,
	 * where starting a hundred readers can take two seconds.
	 */
	private static final Duration LEASE = Duration.ofSeconds(5);

	/** What one fill may take on a busy machine: a lookup, a database read, a fill. */
	private static final Duration ONE_FILL = Duration.ofSeconds(2);

	private static final String LEASE_SETTING = "catalog.cache.lease.duration=" + LEASE.toMillis() + "ms";

	private static final Pattern VERSION = Pattern.compile("\"version\":(\\d+)");

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
		registry.add("catalog.cache.lease.duration", LEASE::toString);
	}

	/** Real behaviour; a test may hold this instance's fill. */
	@MockitoSpyBean
	private ProductCache cache;

	@Autowired
	private FillLeases leases;

	@Autowired
	private RestTestClient http;

	@Autowired
	private ApplicationContext context;

	@LocalServerPort
	private int port;

	private SecondInstance second;

	private SecondInstance third;

	private final ExecutorService threads = Executors.newCachedThreadPool();

	private HttpClient client;

	@BeforeAll
	void startTwoMoreInstances(@Autowired Environment environment) {
		this.second = SecondInstance.sharing(environment, LEASE_SETTING);
		this.third = SecondInstance.sharing(environment, LEASE_SETTING);
		this.client = HttpClient.newBuilder().executor(this.threads).connectTimeout(Duration.ofSeconds(10)).build();
	}

	@AfterAll
	void stopThem() {
		this.second.close();
		this.third.close();
		this.threads.shutdownNow();
	}

	@AfterEach
	void releaseHolds() {
		reset(this.cache);
	}

	@Test
	void twoHundredReadersOfAColdProductOnThreeInstancesReadTheDatabaseOncePerFill() throws Exception {
		for (int round = 0; round < 3; round++) {
			long id = TestProducts.create(this.http, "Teapot " + round, "30.00", 1);
			double before = sum(this::databaseReads);

			List<Future<Answer>> answers = readers(id, 200, ports());

			assertAllAnswered(answers, 0);
			assertThat(sum(this::databaseReads) - before).as("database reads of product %d, all instances", id)
				.isEqualTo(1);
		}
	}

	@Test
	void readersOnOtherInstancesWaitForTheHoldersFillInsteadOfReadingTheDatabase() throws Exception {
		long id = TestProducts.create(this.http, "Kettle", "45.00", 1);
		CountDownLatch holding = new CountDownLatch(1);
		CountDownLatch release = new CountDownLatch(1);
		holdNextFillOf(id, holding, release);
		double before = sum(this::databaseReads);

		// This instance misses, takes the lease, reads the database and is slow to fill.
		List<Future<Answer>> answers = new ArrayList<>(readers(id, 20, this.port));
		assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
		// The others miss meanwhile: they wait for its fill, or (without the lease) read.
		answers.addAll(readers(id, 90, port(this.second), port(this.third)));
		await().atMost(Duration.ofSeconds(10))
			.until(() -> (waiting(this.second.context()) > 0 && waiting(this.third.context()) > 0)
					|| databaseReads(this.second.context()) + databaseReads(this.third.context()) > 0);
		release.countDown();

		assertAllAnswered(answers, 0);
		assertThat(sum(this::databaseReads) - before).as("database reads, all instances").isEqualTo(1);
		assertThat(leaseOutcome(this.second.context(), "waited_hit") + leaseOutcome(this.third.context(), "waited_hit"))
			.isGreaterThanOrEqualTo(2);
	}

	@Test
	void aHolderThatNeverFillsKeepsReadersWaitingNoLongerThanTheLeasePlusOneFill() throws Exception {
		long id = TestProducts.create(this.http, "Sugar bowl", "19.00", 1);
		double before = sum(this::databaseReads);
		double expiredBefore = sum((context) -> leaseOutcome(context, "expired"));
		// A holder that dies right after taking the lease: it never fills, never fails.
		long leasedAt = System.nanoTime();
		assertThat(this.leases.claim(id).token()).as("the lease, taken by a holder that dies").isNotNull();

		List<Future<Answer>> answers = readers(id, 150, ports());

		List<Answer> answered = assertAllAnswered(answers, 0);
		long fastest = answered.stream().mapToLong(Answer::answeredNanos).min().orElseThrow() - leasedAt;
		assertThat(Duration.ofNanos(fastest)).as("no reader went around the lease")
			.isGreaterThan(LEASE.minusMillis(100));
		for (Answer one : answered) {
			long waitedFrom = Math.max(one.sentNanos(), leasedAt + LEASE.toNanos());
			assertThat(Duration.ofNanos(one.answeredNanos() - waitedFrom))
				.as("answered after the later of its request and the lease's end (%s after the lease was taken)",
						Duration.ofNanos(one.answeredNanos() - leasedAt))
				.isLessThan(ONE_FILL);
		}
		assertThat(sum(this::databaseReads) - before).as("database reads, all instances").isEqualTo(1);
		assertThat(sum((context) -> leaseOutcome(context, "expired")) - expiredBefore).isEqualTo(1);
		for (ApplicationContext instance : instances()) {
			FillLeases leases = instance.getBean(FillLeases.class);
			assertThat(instance.getBean(MeterRegistry.class).get("catalog.cache.fill_lease.looks").summary().max())
				.as("Redis lookups of one waiter")
				.isLessThanOrEqualTo(leases.maxLooks());
		}
	}

	@Test
	void aWriteVoidsTheLeaseAndReadersAfterItSeeTheNewVersionAtOnce() throws Exception {
		long id = TestProducts.create(this.http, "Milk jug", "14.00", 1);
		FillLeases.Claim holder = this.leases.claim(id);
		assertThat(holder.token()).isNotNull();
		TestProducts.update(this.second.http(), id, "{\"price\": 15.00}");
		double before = sum(this::databaseReads);
		double grantedBefore = sum((context) -> leaseOutcome(context, "granted"));
		double takenOverBefore = sum((context) -> leaseOutcome(context, "expired"));
		long wroteAt = System.nanoTime();

		List<Answer> answered = assertAllAnswered(readers(id, 60, ports()), 1);

		// The write replaced the leased entry with the version it committed: every reader
		// hits it, none waits for the lease or reads the database.
		assertThat(sum(this::databaseReads) - before).isZero();
		assertThat(sum((context) -> leaseOutcome(context, "granted")) - grantedBefore).isZero();
		assertThat(sum((context) -> leaseOutcome(context, "expired")) - takenOverBefore).isZero();
		assertThat(answered)
			.allSatisfy((one) -> assertThat(Duration.ofNanos(one.answeredNanos() - wroteAt)).isLessThan(LEASE));
		// The old holder's fill of the version it would have read is refused.
		MeterRegistry meters = this.context.getBean(MeterRegistry.class);
		double refusedBefore = meters.get("catalog.cache.stale_sets_refused").counter().count();
		this.cache.put(id, 0, "{\"version\":0}".getBytes());
		assertThat(meters.get("catalog.cache.stale_sets_refused").counter().count()).isEqualTo(refusedBefore + 1);
		assertThat(TestProducts.read(this.third.http(), id).getResponseBody()).containsEntry("version", 1);
	}

	@Test
	void aFailedFillSendsTheWaitersToTheDatabaseAtOnce() throws Exception {
		long id = TestProducts.create(this.http, "Saucer", "6.00", 1);
		FillLeases.Claim holder = this.leases.claim(id);
		assertThat(holder.token()).isNotNull();
		double failedBefore = sum((context) -> leaseOutcome(context, "failed"));

		List<Future<Answer>> answers = readers(id, 40, port(this.second), port(this.third));
		await().atMost(Duration.ofSeconds(10))
			.until(() -> waiting(this.second.context()) > 0 && waiting(this.third.context()) > 0);
		long failedAt = System.nanoTime();
		assertThatThrownBy(() -> this.leases.readDatabase(holder, () -> {
			throw new DataAccessResourceFailureException("the database is gone");
		})).isInstanceOf(DataAccessResourceFailureException.class);

		List<Answer> answered = assertAllAnswered(answers, 0);
		long slowest = answered.stream().mapToLong(Answer::answeredNanos).max().orElseThrow() - failedAt;
		assertThat(Duration.ofNanos(slowest)).as("waiters went to the database, not waiting for the lease's end")
			.isLessThan(ONE_FILL);
		assertThat(sum((context) -> leaseOutcome(context, "failed")) - failedBefore).isGreaterThanOrEqualTo(1);
	}

	/** Holds this instance's next fill of the product until released. */
	private void holdNextFillOf(long id, CountDownLatch holding, CountDownLatch release) {
		AtomicBoolean held = new AtomicBoolean();
		doAnswer((call) -> {
			if (held.compareAndSet(false, true)) {
				holding.countDown();
				release.await(10, TimeUnit.SECONDS);
			}
			return call.callRealMethod();
		}).when(this.cache).put(eq(id), anyLong(), any());
	}

	/** Readers spread over the given ports in turn, all started at once. */
	private List<Future<Answer>> readers(long id, int count, int... ports) {
		CountDownLatch start = new CountDownLatch(1);
		List<Future<Answer>> answers = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			HttpRequest get = HttpRequest
				.newBuilder(URI.create("http://localhost:" + ports[i % ports.length] + "/products/" + id))
				.timeout(Duration.ofSeconds(30))
				.build();
			answers.add(this.threads.submit(() -> {
				start.await();
				long sent = System.nanoTime();
				HttpResponse<String> response = this.client.send(get, HttpResponse.BodyHandlers.ofString());
				return new Answer(response.statusCode(), response.body(), sent, System.nanoTime());
			}));
		}
		start.countDown();
		return answers;
	}

	private static List<Answer> assertAllAnswered(List<Future<Answer>> answers, long version) throws Exception {
		List<Answer> answered = new ArrayList<>();
		for (Future<Answer> answer : answers) {
			Answer one = answer.get(30, TimeUnit.SECONDS);
			assertThat(one.status()).as(one.body()).isEqualTo(200);
			Matcher matcher = VERSION.matcher(one.body());
			assertThat(matcher.find()).isTrue();
			assertThat(Long.parseLong(matcher.group(1))).isEqualTo(version);
			answered.add(one);
		}
		return answered;
	}

	private int[] ports() {
		return new int[] { this.port, port(this.second), port(this.third) };
	}

	private static int port(SecondInstance instance) {
		return ((WebServerApplicationContext) instance.context()).getWebServer().getPort();
	}

	private List<ApplicationContext> instances() {
		return List.of(this.context, this.second.context(), this.third.context());
	}

	private double sum(ToDoubleFunction<ApplicationContext> metric) {
		return instances().stream().mapToDouble(metric).sum();
	}

	private double databaseReads(ApplicationContext instance) {
		return instance.getBean(MeterRegistry.class)
			.get("catalog.cache.database_reads")
			.counters()
			.stream()
			.mapToDouble(Counter::count)
			.sum();
	}

	private static double leaseOutcome(ApplicationContext instance, String outcome) {
		return instance.getBean(MeterRegistry.class)
			.get("catalog.cache.fill_leases")
			.tag("outcome", outcome)
			.counter()
			.count();
	}

	private static double waiting(ApplicationContext instance) {
		return instance.getBean(MeterRegistry.class).get("catalog.cache.fill_lease.waiting").gauge().value();
	}

	private record Answer(int status, String body, long sentNanos, long answeredNanos) {

	}

}
