package com.example.catalog.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * TCP proxy between the service under test and a real Redis that can refuse, blackhole,
 * delay or reset traffic on demand, so Redis outage handling can be tested
 * deterministically.
 */
public final class RedisFaultProxy implements AutoCloseable {

	private enum Mode {

		PASS, BLACKHOLE, LATENCY

	}

	private static final int CHUNK = 16 * 1024;

	private static final int QUEUE_CHUNKS = 64;

	private static final int CONNECT_TIMEOUT_MS = 5_000;

	private final String targetHost;

	private final int targetPort;

	private final int port;

	private final Object modeLock = new Object();

	private final Set<Connection> connections = ConcurrentHashMap.newKeySet();

	private final AtomicInteger accepted = new AtomicInteger();

	private final AtomicInteger connectionIds = new AtomicInteger();

	// guarded by modeLock (read without lock through volatile)
	private volatile Mode mode = Mode.PASS;

	private volatile long latencyNanos;

	// bytes whose appearance in a client's traffic turns the proxy into a blackhole
	private volatile byte[] holdTrigger;

	private volatile boolean holdTriggered;

	// guarded by this
	private ServerSocket listener;

	private volatile boolean closed;

	private RedisFaultProxy(String targetHost, int targetPort) throws IOException {
		this.targetHost = Objects.requireNonNull(targetHost, "targetHost");
		this.targetPort = targetPort;
		ServerSocket ss = bind(0);
		this.port = ss.getLocalPort();
		synchronized (this) {
			this.listener = ss;
			startAcceptor(ss);
		}
	}

	/** Listen on 127.0.0.1 (free port) and forward to {@code targetHost:targetPort}. */
	public static RedisFaultProxy start(String targetHost, int targetPort) {
		try {
			return new RedisFaultProxy(targetHost, targetPort);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("RedisFaultProxy could not listen on 127.0.0.1", ex);
		}
	}

	/** Local port clients should connect to (stable across refuse()/pass()). */
	public int port() {
		return port;
	}

	/** Number of client connections accepted so far. */
	public int connectionsAccepted() {
		return accepted.get();
	}

	/**
	 * Normal forwarding; re-opens the listener on the same port after {@link #refuse()};
	 * releases blackholed bytes.
	 */
	public void pass() {
		ensureListening();
		setMode(Mode.PASS, 0);
	}

	/** Close the listener (new connects are refused) and drop every live connection. */
	public void refuse() {
		synchronized (this) {
			checkOpen();
			closeListener();
			closeAll(false);
		}
	}

	/**
	 * Accept and keep connections open but forward nothing in either direction. Bytes are
	 * held, not dropped, so after {@link #pass()} they are delivered in order and the
	 * RESP stream stays consistent for clients that kept the connection (a timed-out
	 * command's late reply still lines up with it).
	 */
	public void blackhole() {
		ensureListening();
		setMode(Mode.BLACKHOLE, 0);
	}

	/**
	 * Forward until a client sends a command containing {@code text} (a script argument,
	 * say), then blackhole from that command on: it and everything after are held. Lets a
	 * test stop the service at an exact point of its conversation with Redis.
	 */
	public void holdFrom(String text) {
		this.holdTriggered = false;
		this.holdTrigger = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
		pass();
	}

	/** Whether a {@link #holdFrom} trigger was seen. */
	public boolean holdTriggered() {
		return this.holdTriggered;
	}

	/**
	 * Forward, but deliver each chunk from Redis to the client {@code delay} after it
	 * arrived (order preserved).
	 */
	public void latency(Duration delay) {
		Objects.requireNonNull(delay, "delay");
		if (delay.isNegative()) {
			throw new IllegalArgumentException("delay must not be negative: " + delay);
		}
		ensureListening();
		setMode(Mode.LATENCY, delay.toNanos());
	}

	/**
	 * The peer of every live connection vanishes without closing it (a host gone, a NAT
	 * entry dropped): those connections stay open but carry nothing, for good, while new
	 * connections pass normally.
	 */
	public void silenceLiveConnections() {
		synchronized (modeLock) {
			connections.forEach((connection) -> connection.silenced = true);
			modeLock.notifyAll();
		}
	}

	/** Abruptly reset (RST) all live connections, then pass new ones normally. */
	public void resetConnections() {
		synchronized (this) {
			checkOpen();
			closeAll(true);
		}
		pass();
	}

	@Override
	public void close() {
		synchronized (this) {
			if (closed) {
				return;
			}
			closed = true;
			closeListener();
			closeAll(false);
		}
		synchronized (modeLock) {
			modeLock.notifyAll();
		}
	}

	@Override
	public String toString() {
		return "RedisFaultProxy[127.0.0.1:" + port + " -> " + targetHost + ":" + targetPort + ", mode=" + mode + "]";
	}

	// ------------------------------------------------------------------ listener

	private static ServerSocket bind(int port) throws IOException {
		ServerSocket ss = new ServerSocket();
		try {
			ss.setReuseAddress(true);
			ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 128);
			return ss;
		}
		catch (IOException ex) {
			closeQuietly(ss);
			throw ex;
		}
	}

	private void ensureListening() {
		synchronized (this) {
			checkOpen();
			if (listener != null) {
				return;
			}
			IOException last = null;
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
			do {
				try {
					ServerSocket ss = bind(port);
					listener = ss;
					startAcceptor(ss);
					return;
				}
				catch (IOException ex) {
					last = ex;
					sleepQuietly(50);
				}
			}
			while (System.nanoTime() < deadline);
			throw new UncheckedIOException("RedisFaultProxy could not re-bind 127.0.0.1:" + port, last);
		}
	}

	private void closeListener() {
		if (listener != null) {
			closeQuietly(listener);
			listener = null;
		}
	}

	private void startAcceptor(ServerSocket ss) {
		daemon("redis-fault-proxy-" + port + "-accept", () -> acceptLoop(ss)).start();
	}

	private void acceptLoop(ServerSocket ss) {
		while (!ss.isClosed()) {
			Socket client;
			try {
				client = ss.accept();
			}
			catch (IOException ex) {
				return; // listener closed by refuse()/close()
			}
			accepted.incrementAndGet();
			Socket upstream = new Socket();
			try {
				client.setTcpNoDelay(true);
				upstream.setTcpNoDelay(true);
				upstream.connect(new InetSocketAddress(targetHost, targetPort), CONNECT_TIMEOUT_MS);
			}
			catch (IOException ex) {
				closeQuietly(upstream);
				closeQuietly(client);
				continue;
			}
			Connection c = new Connection(connectionIds.incrementAndGet(), client, upstream);
			synchronized (this) {
				if (closed || listener != ss) {
					c.close(false); // raced with refuse()/close()
					continue;
				}
				connections.add(c);
			}
			c.start();
		}
	}

	private void closeAll(boolean reset) {
		for (Connection c : new ArrayList<>(connections)) {
			c.close(reset);
		}
	}

	private void checkOpen() {
		if (closed) {
			throw new IllegalStateException("RedisFaultProxy is closed");
		}
	}

	private void setMode(Mode newMode, long newLatencyNanos) {
		synchronized (modeLock) {
			latencyNanos = newLatencyNanos;
			mode = newMode;
			modeLock.notifyAll();
		}
	}

	// ------------------------------------------------------------------ connection

	private static final class Chunk {

		final byte[] data; // null = end of stream

		final long readAtNanos;

		Chunk(byte[] data, long readAtNanos) {
			this.data = data;
			this.readAtNanos = readAtNanos;
		}

	}

	private final class Connection {

		private final Socket client;

		private final Socket upstream;

		private final AtomicBoolean closing = new AtomicBoolean();

		private volatile boolean silenced;

		private final List<Thread> threads = new ArrayList<>(4);

		Connection(int id, Socket client, Socket upstream) {
			this.client = client;
			this.upstream = upstream;
			String name = "redis-fault-proxy-" + port + "-c" + id;
			addPipe(name + "-up", client, upstream, false);
			addPipe(name + "-down", upstream, client, true);
		}

		private void addPipe(String name, Socket from, Socket to, boolean toClient) {
			BlockingQueue<Chunk> queue = new ArrayBlockingQueue<>(QUEUE_CHUNKS);
			threads.add(daemon(name + "-read", () -> readLoop(from, queue)));
			threads.add(daemon(name + "-write", () -> writeLoop(to, queue, toClient)));
		}

		void start() {
			threads.forEach(Thread::start);
		}

		private void readLoop(Socket from, BlockingQueue<Chunk> queue) {
			byte[] buf = new byte[CHUNK];
			try {
				InputStream in = from.getInputStream();
				while (true) {
					int n = in.read(buf);
					if (n < 0) {
						queue.put(new Chunk(null, System.nanoTime()));
						return;
					}
					if (n > 0) {
						byte[] copy = new byte[n];
						System.arraycopy(buf, 0, copy, 0, n);
						queue.put(new Chunk(copy, System.nanoTime()));
					}
				}
			}
			catch (IOException ex) {
				close(false);
			}
			catch (InterruptedException ex) {
				// closing
			}
		}

		private void writeLoop(Socket to, BlockingQueue<Chunk> queue, boolean toClient) {
			try {
				OutputStream out = to.getOutputStream();
				while (true) {
					Chunk chunk = queue.take();
					if (!toClient) {
						checkHoldTrigger(chunk);
					}
					awaitTurn(chunk, toClient);
					if (chunk.data == null) {
						// Peer closed: propagate after pending bytes went out.
						close(false);
						return;
					}
					out.write(chunk.data);
					out.flush();
				}
			}
			catch (IOException ex) {
				close(false);
			}
			catch (InterruptedException ex) {
				// closing
			}
		}

		private void checkHoldTrigger(Chunk chunk) {
			byte[] trigger = holdTrigger;
			if (trigger != null && chunk.data != null && contains(chunk.data, trigger)) {
				holdTrigger = null;
				holdTriggered = true;
				setMode(Mode.BLACKHOLE, 0);
			}
		}

		/**
		 * Blocks while blackholed and until the chunk's latency has elapsed; re-evaluates
		 * on every mode change.
		 */
		private void awaitTurn(Chunk chunk, boolean toClient) throws InterruptedException {
			synchronized (modeLock) {
				while (true) {
					if (closing.get() || closed) {
						throw new InterruptedException("closing");
					}
					Mode m = mode;
					// A silenced connection still passes its client's close, so that a
					// client giving up on it frees it.
					if (m == Mode.BLACKHOLE || (silenced && chunk.data != null)) {
						modeLock.wait();
						continue;
					}
					long delay = (toClient && m == Mode.LATENCY) ? latencyNanos : 0L;
					long remaining = chunk.readAtNanos + delay - System.nanoTime();
					if (delay > 0 && remaining > 0) {
						TimeUnit.NANOSECONDS.timedWait(modeLock, remaining);
						continue;
					}
					return;
				}
			}
		}

		void close(boolean reset) {
			if (!closing.compareAndSet(false, true)) {
				return;
			}
			connections.remove(this);
			if (reset) {
				try {
					client.setSoLinger(true, 0);
				}
				catch (IOException ignored) {
					// already gone
				}
				try {
					upstream.setSoLinger(true, 0);
				}
				catch (IOException ignored) {
					// already gone
				}
			}
			closeQuietly(client);
			closeQuietly(upstream);
			Thread self = Thread.currentThread();
			for (Thread t : threads) {
				if (t != self) {
					t.interrupt();
				}
			}
		}

	}

	// ------------------------------------------------------------------ helpers

	private static Thread daemon(String name, Runnable body) {
		Thread t = new Thread(body, name);
		t.setDaemon(true);
		t.setUncaughtExceptionHandler((th, ex) -> {
			// a test proxy stays quiet
		});
		return t;
	}

	private static boolean contains(byte[] data, byte[] part) {
		outer: for (int i = 0; i + part.length <= data.length; i++) {
			for (int j = 0; j < part.length; j++) {
				if (data[i + j] != part[j]) {
					continue outer;
				}
			}
			return true;
		}
		return false;
	}

	private static void closeQuietly(AutoCloseable c) {
		try {
			c.close();
		}
		catch (Exception ignored) {
			// quiet
		}
	}

	private static void sleepQuietly(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
