package com.example.catalog.cache;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.tracing.MicrometerTracing;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.slf4j.LoggerFactory;

import com.example.catalog.support.TestRedis;

import org.springframework.core.io.ClassPathResource;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.RedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * The Redis side of a cache hit in isolation, against a real Redis (the tests' own:
 * {@code REDIS_TEST_URL} or a {@code redis-server} started on a free port): the
 * service's {@link ProductCache#lookup} next to the single Redis calls it could be made
 * of, each with and without Lettuce's Micrometer observation of every command (what
 * Spring Boot installs when an {@code ObservationRegistry} exists). Run by
 * {@code bench/jmh.sh}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(8)
public class ProductCacheLookupBenchmark {

	private static final int PRODUCTS = 1000;

	private static final byte[][] FIELDS = { bytes("state"), bytes("version"), bytes("json") };

	/**
	 * Lettuce's per-command observation: on ({@code observed}, Spring Boot's default),
	 * switched off by an observation predicate ({@code filtered}, what
	 * {@code management.observations.enable.lettuce=false} installs), or not installed
	 * ({@code plain}).
	 */
	@Param({ "observed", "filtered", "plain" })
	public String commands;

	private LettuceConnectionFactory factory;

	private RedisTemplate<String, byte[]> template;

	private RedisTemplate<String, byte[]> exposingTemplate;

	private ProductCache cache;

	private RedisScript<List> lookupScript;

	private StatefulRedisConnection<byte[], byte[]> lettuce;

	private ClientResources resources;

	private byte[][] keys;

	private String[] keyNames;

	@Setup(Level.Trial)
	public void setUp() throws Exception {
		// The per-hit INFO line is the service's documented behaviour, but here it would
		// measure the console of the benchmark's fork.
		((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("com.example.catalog")).setLevel(ch.qos.logback.classic.Level.WARN);
		((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
			.setLevel(ch.qos.logback.classic.Level.WARN);
		SimpleMeterRegistry meters = new SimpleMeterRegistry();
		ClientResources.Builder builder = ClientResources.builder();
		if (!"plain".equals(this.commands)) {
			ObservationRegistry observations = ObservationRegistry.create();
			observations.observationConfig().observationHandler(new DefaultMeterObservationHandler(meters));
			if ("filtered".equals(this.commands)) {
				observations.observationConfig().observationPredicate((name, context) -> !name.startsWith("lettuce"));
			}
			builder.tracing(new MicrometerTracing(observations, "Redis"));
		}
		this.resources = builder.build();
		TestRedis.Endpoint redis = TestRedis.endpoint();
		this.factory = new LettuceConnectionFactory(new RedisStandaloneConfiguration(redis.host(), redis.port()),
				LettuceClientConfiguration.builder()
					.clientResources(this.resources)
					// Longer than the service's 250 ms: a stall of a shared machine must not
					// end the run.
					.commandTimeout(Duration.ofSeconds(2))
					.build());
		this.factory.afterPropertiesSet();
		this.factory.start();
		RedisClientConfiguration configuration = new RedisClientConfiguration();
		this.template = configuration.productCacheTemplate(this.factory);
		this.template.afterPropertiesSet();
		this.exposingTemplate = configuration.productCacheTemplate(this.factory);
		this.exposingTemplate.setExposeConnection(true);
		this.exposingTemplate.afterPropertiesSet();
		CacheProperties properties = new CacheProperties(Duration.ofHours(1), Duration.ofSeconds(30), 0.1,
				"jmh-" + ProcessHandle.current().pid() + ":product:", Duration.ofSeconds(2));
		RedisGuard guard = new RedisGuard(properties, this.factory, this.template);
		NearCache nearCacheOff = new NearCache(new NearCacheProperties(NearCacheProperties.Mode.OFF, 1, Duration.ofSeconds(1)), properties,
				guard, this.factory, meters);
		ProductKeys productKeys = new ProductKeys(properties);
		// No tracing: what a hit costs without it.
		CacheObservations observationsOff = new CacheObservations(io.micrometer.observation.ObservationRegistry.NOOP,
				io.micrometer.tracing.Tracer.NOOP);
		ProductInvalidations invalidations = new ProductInvalidations(this.template, guard,
				new ReplicatedMarkers(this.factory, guard), productKeys, nearCacheOff, observationsOff, meters);
		// The consistency auditor off (CACHE_AUDIT_SAMPLE=0): what a hit costs without it.
		CacheAuditor auditorOff = new CacheAuditor(new CacheAuditProperties(0, 1, Duration.ofSeconds(1)),
				(ids) -> java.util.Map.of(), invalidations, nearCacheOff, this.template, guard, productKeys,
				tools.jackson.databind.json.JsonMapper.builder().build(), meters);
		this.cache = new ProductCache(this.template, guard, productKeys, invalidations, nearCacheOff, auditorOff,
				observationsOff, meters);
		this.lookupScript = RedisScript.of(
				new ClassPathResource("cache/lookup.lua").getContentAsString(StandardCharsets.UTF_8), List.class);
		this.lettuce = ((io.lettuce.core.RedisClient) this.factory.getNativeClient())
			.connect(io.lettuce.core.codec.ByteArrayCodec.INSTANCE);
		this.keys = new byte[PRODUCTS + 1][];
		this.keyNames = new String[PRODUCTS + 1];
		for (int id = 1; id <= PRODUCTS; id++) {
			byte[] json = bytes(("{\"id\":%d,\"name\":\"Product %d\",\"description\":\"Benchmark product\","
					+ "\"price\":12.50,\"stock_quantity\":40,\"created_at\":\"2026-11-23T10:14:46.581Z\","
					+ "\"updated_at\":\"2026-11-23T10:14:46.581Z\",\"version\":3}")
				.formatted(id, id));
			this.cache.put(id, 3, json);
			this.keyNames[id] = productKeys.key(id);
			this.keys[id] = bytes(this.keyNames[id]);
		}
		if (this.cache.lookupAgain(1).outcome() != Lookup.Outcome.HIT) {
			throw new IllegalStateException("The benchmark's entries were not cached");
		}
	}

	@TearDown(Level.Trial)
	public void tearDown() {
		for (int id = 1; id <= PRODUCTS; id++) {
			this.lettuce.sync().del(this.keys[id]);
		}
		this.lettuce.close();
		this.factory.destroy();
		this.resources.shutdown();
	}

	private static int randomId() {
		return ThreadLocalRandom.current().nextInt(1, PRODUCTS + 1);
	}

	/** The service's lookup as it is on this commit. */
	@Benchmark
	public byte[] productCacheLookup() {
		return this.cache.lookup(randomId()).json();
	}

	/** The lookup script through RedisTemplate and its script executor. */
	@Benchmark
	public Object scriptThroughTemplate() {
		return this.template.execute(this.lookupScript, List.of(this.keyNames[randomId()]), bytes("3960000"));
	}

	/** A plain HMGET through RedisTemplate (a connection proxy per call). */
	@Benchmark
	public Object hmgetThroughTemplate() {
		byte[] key = this.keys[randomId()];
		return this.template.execute((RedisCallback<Object>) (connection) -> connection.hashCommands()
			.hMGet(key, FIELDS));
	}

	/** A plain HMGET through RedisTemplate that hands out the connection itself. */
	@Benchmark
	public Object hmgetThroughExposingTemplate() {
		byte[] key = this.keys[randomId()];
		return this.exposingTemplate.execute((RedisCallback<Object>) (connection) -> connection.hashCommands()
			.hMGet(key, FIELDS));
	}

	/** A plain HMGET on a Lettuce connection: the floor for a hit's Redis call. */
	@Benchmark
	public Object hmgetOnLettuce() {
		return this.lettuce.sync().hmget(this.keys[randomId()], FIELDS);
	}

	private static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

}
