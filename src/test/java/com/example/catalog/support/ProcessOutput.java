package com.example.catalog.support;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * The test JVM's {@code System.out} and {@code System.err}, captured once and for good,
 * and given to each test as a {@link CapturedOutput} of what was written since its class
 * started, less what its class's earlier tests wrote while they ran, as Spring Boot's
 * capture has it. Spring Boot's {@link OutputCaptureExtension} swaps {@code System.out}
 * for each class and hands a line to the newest capture only, so two classes capturing at
 * once lose lines to each other, and every class that read its output had to wait for the
 * others: the longest chain of the whole run. Here classes read at once.
 * <p>
 * The output holds the lines of every class that ran meanwhile, as it always did for
 * classes that capture nothing: assert on what only this class's context writes, or share
 * a {@code @ResourceLock} with the classes that write the same lines.
 */
public final class ProcessOutput
		implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, AfterAllCallback, ParameterResolver {

	/** Held by the classes that count the near cache's "on or off" lines. */
	public static final String NEAR_CACHE_MODE_LINES = "output: near cache mode";

	private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(ProcessOutput.class);

	private static final Tee tee = new Tee();

	@Override
	public void beforeAll(ExtensionContext context) {
		context.getStore(NAMESPACE).put(View.class, new View(tee.mark()));
	}

	@Override
	public void beforeEach(ExtensionContext context) {
		context.getStore(NAMESPACE).put(TestStart.class, new TestStart(tee.position()));
	}

	@Override
	public void afterEach(ExtensionContext context) {
		TestStart test = context.getStore(NAMESPACE).remove(TestStart.class, TestStart.class);
		View view = context.getStore(NAMESPACE).get(View.class, View.class);
		if (test != null && view != null) {
			view.skip(test.from(), tee.position());
		}
	}

	@Override
	public void afterAll(ExtensionContext context) {
		View view = context.getStore(NAMESPACE).remove(View.class, View.class);
		if (view != null) {
			tee.release(view.from);
		}
	}

	@Override
	public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
		return parameter.getParameter().getType() == CapturedOutput.class;
	}

	@Override
	public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
		return context.getStore(NAMESPACE).get(View.class, View.class);
	}

	/** Where a test started. */
	private record TestStart(long from) {

	}

	/** What was written since a class started, less what its finished tests wrote. */
	private static final class View implements CapturedOutput {

		private final long from;

		/** Where each finished test started and ended. */
		private final List<long[]> finished = new CopyOnWriteArrayList<>();

		View(long from) {
			this.from = from;
		}

		void skip(long start, long end) {
			this.finished.add(new long[] { start, end });
		}

		@Override
		public String getAll() {
			return tee.read(this.from, this.finished, null);
		}

		@Override
		public String getOut() {
			return tee.read(this.from, this.finished, Boolean.FALSE);
		}

		@Override
		public String getErr() {
			return tee.read(this.from, this.finished, Boolean.TRUE);
		}

		@Override
		public String toString() {
			return getAll();
		}

	}

	/**
	 * Copies every write to the original streams and keeps it, in order, for as long as a
	 * class that started before it still reads.
	 */
	private static final class Tee {

		private final List<Chunk> chunks = new ArrayList<>();

		/** How many chunks were dropped from the front: no reader needs them. */
		private long dropped;

		/** Where the classes reading now started, and how many started there. */
		private final Map<Long, Integer> readers = new HashMap<>();

		Tee() {
			System.setOut(copying(System.out, false));
			System.setErr(copying(System.err, true));
		}

		private PrintStream copying(PrintStream original, boolean err) {
			return new PrintStream(new OutputStream() {

				@Override
				public void write(int b) {
					write(new byte[] { (byte) b }, 0, 1);
				}

				@Override
				public void write(byte[] bytes, int offset, int length) {
					add(new Chunk(err, new String(bytes, offset, length)));
					original.write(bytes, offset, length);
				}

				@Override
				public void flush() {
					original.flush();
				}

			}, true);
		}

		private synchronized void add(Chunk chunk) {
			if (this.readers.isEmpty()) {
				// Nobody reads it (and nothing is kept then): only its place counts.
				this.dropped++;
				return;
			}
			this.chunks.add(chunk);
		}

		/** Where the next write goes. */
		synchronized long position() {
			return this.dropped + this.chunks.size();
		}

		/** Where the next write goes, kept until {@link #release}d. */
		synchronized long mark() {
			long next = position();
			this.readers.merge(next, 1, Integer::sum);
			return next;
		}

		synchronized void release(long from) {
			this.readers.computeIfPresent(from, (key, count) -> (count > 1) ? count - 1 : null);
			long oldest = this.readers.keySet()
				.stream()
				.mapToLong(Long::longValue)
				.min()
				.orElse(this.dropped + this.chunks.size());
			int unread = (int) (oldest - this.dropped);
			this.chunks.subList(0, unread).clear();
			this.dropped = oldest;
		}

		/**
		 * The output since the mark, less the skipped stretches: both streams (err null),
		 * or one.
		 */
		synchronized String read(long from, List<long[]> skipped, Boolean err) {
			StringBuilder text = new StringBuilder();
			for (long at = from; at < position(); at++) {
				Chunk chunk = this.chunks.get((int) (at - this.dropped));
				if ((err == null || chunk.err() == err) && !within(at, skipped)) {
					text.append(chunk.text());
				}
			}
			return text.toString();
		}

		private static boolean within(long at, List<long[]> stretches) {
			for (long[] stretch : stretches) {
				if (at >= stretch[0] && at < stretch[1]) {
					return true;
				}
			}
			return false;
		}

	}

	private record Chunk(boolean err, String text) {

	}

}
