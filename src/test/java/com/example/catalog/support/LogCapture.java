package com.example.catalog.support;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import org.slf4j.LoggerFactory;

/**
 * The process's log events while it is open, one {@code LEVEL logger : message} line
 * each, followed by the stack trace of the exception it carries, if any. Any number can
 * be open at once, so a class that reads the log this way runs beside the others: Spring
 * Boot's output capture keeps one stack of captures per process, and two classes
 * capturing at once lose each other's lines (hence the {@code SYSTEM_OUT} lock, which
 * made those classes wait for each other).
 */
public final class LogCapture implements AutoCloseable {

	private final Lines lines = new Lines();

	private LogCapture() {
	}

	/** Starts capturing the events logged from now on, by any thread. */
	public static LogCapture start() {
		LogCapture capture = new LogCapture();
		capture.lines.setContext(root().getLoggerContext());
		capture.lines.start();
		root().addAppender(capture.lines);
		return capture;
	}

	/** The lines captured so far. */
	public String text() {
		return String.join("\n", this.lines.captured);
	}

	@Override
	public void close() {
		root().detachAppender(this.lines);
		this.lines.stop();
	}

	private static Logger root() {
		return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
	}

	private static final class Lines extends UnsynchronizedAppenderBase<ILoggingEvent> {

		private final Queue<String> captured = new ConcurrentLinkedQueue<>();

		@Override
		protected void append(ILoggingEvent event) {
			String line = event.getLevel() + " " + event.getLoggerName() + " : " + event.getFormattedMessage();
			this.captured.add((event.getThrowableProxy() != null)
					? line + "\n" + ThrowableProxyUtil.asString(event.getThrowableProxy()) : line);
		}

	}

}
