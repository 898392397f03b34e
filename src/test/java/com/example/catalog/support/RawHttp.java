package com.example.catalog.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * One HTTP/1.1 connection driven by hand, for requests no client library would send: a
 * body announced but sent slowly or never finished. Reads the answer as soon as it comes,
 * whether or not the body was sent.
 */
public final class RawHttp implements AutoCloseable {

	private final Socket socket;

	private final OutputStream out;

	private RawHttp(Socket socket) throws IOException {
		this.socket = socket;
		this.out = socket.getOutputStream();
	}

	public static RawHttp connect(int port) {
		try {
			Socket socket = new Socket();
			socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
			return new RawHttp(socket);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/**
	 * Sends the request line and the headers (each "Name: value"), then the blank line.
	 */
	public RawHttp head(String requestLine, String... headers) {
		StringBuilder head = new StringBuilder(requestLine).append("\r\nHost: localhost\r\n");
		for (String header : headers) {
			head.append(header).append("\r\n");
		}
		return send(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
	}

	/** Sends bytes; false when the server has already closed the connection. */
	public boolean trySend(byte[] bytes) {
		try {
			this.out.write(bytes);
			this.out.flush();
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

	public RawHttp send(byte[] bytes) {
		if (!trySend(bytes)) {
			throw new UncheckedIOException(new IOException("The server closed the connection"));
		}
		return this;
	}

	/**
	 * Waits at most {@code timeout} for the answer's status line and headers; null if
	 * none came.
	 */
	public Answer awaitAnswer(Duration timeout) {
		try {
			this.socket.setSoTimeout(Math.toIntExact(timeout.toMillis()));
			InputStream in = this.socket.getInputStream();
			ByteArrayOutputStream received = new ByteArrayOutputStream();
			long deadline = System.nanoTime() + timeout.toNanos();
			while (!received.toString(StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) {
				int next = in.read();
				if (next == -1 || System.nanoTime() > deadline) {
					break;
				}
				received.write(next);
			}
			String head = received.toString(StandardCharsets.ISO_8859_1);
			if (!head.startsWith("HTTP/1.1 ")) {
				return null;
			}
			return new Answer(Integer.parseInt(head.substring(9, 12)), head);
		}
		catch (SocketTimeoutException ex) {
			return null;
		}
		catch (IOException ex) {
			return null;
		}
	}

	/**
	 * True once the server has closed the connection (the read hits the end of stream).
	 */
	public boolean closedByServerWithin(Duration timeout) {
		try {
			this.socket.setSoTimeout(Math.toIntExact(timeout.toMillis()));
			InputStream in = this.socket.getInputStream();
			byte[] buffer = new byte[8192];
			long deadline = System.nanoTime() + timeout.toNanos();
			while (System.nanoTime() < deadline) {
				if (in.read(buffer) == -1) {
					return true;
				}
			}
			return false;
		}
		catch (SocketTimeoutException ex) {
			return false;
		}
		catch (IOException ex) {
			return true;
		}
	}

	@Override
	public void close() {
		try {
			this.socket.close();
		}
		catch (IOException ex) {
			// Nothing left to release.
		}
	}

	/** The status and the raw head of an answer. */
	public record Answer(int status, String head) {

		public String header(String name) {
			for (String line : this.head.split("\r\n")) {
				int colon = line.indexOf(':');
				if (colon > 0 && line.substring(0, colon)
					.trim()
					.toLowerCase(Locale.ROOT)
					.equals(name.toLowerCase(Locale.ROOT))) {
					return line.substring(colon + 1).trim();
				}
			}
			return null;
		}

	}

}
