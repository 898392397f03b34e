package com.example.catalog.support;

import org.springframework.boot.logging.LogFile;
import org.springframework.boot.logging.LoggingInitializationContext;
import org.springframework.boot.logging.logback.LogbackLoggingSystem;

/**
 * Spring Boot's Logback set-up, done once for the whole test JVM, by one Spring context
 * at a time. The JVM runs several contexts at once (test classes run in parallel, some
 * start a second instance), and they all share Logback's one logger context:
 * <ul>
 * <li>one context resetting it while another built its appenders left that one without
 * its Spring environment ("Unable to find Spring Environment in logger context"), and its
 * start failed;</li>
 * <li>a context that closed marked Logback as not set up, so the next one to start set it
 * up afresh, and Spring Boot drops every line of the process from a context's start until
 * its logging is configured: the other contexts' lines of that moment were lost, and a
 * class asserting on its own lines failed now and then.</li>
 * </ul>
 * Every context of the tests has the same logging settings, so the first set-up serves
 * them all; log levels are still applied by each context. Named by the
 * {@code org.springframework.boot.logging.LoggingSystem} system property that the
 * surefire configuration in {@code pom.xml} sets.
 */
public class SerialLogbackLoggingSystem extends LogbackLoggingSystem {

	private static final Object LOGBACK = new Object();

	public SerialLogbackLoggingSystem(ClassLoader classLoader) {
		super(classLoader);
	}

	@Override
	public void beforeInitialize() {
		synchronized (LOGBACK) {
			super.beforeInitialize();
		}
	}

	@Override
	public void initialize(LoggingInitializationContext context, String configLocation, LogFile logFile) {
		synchronized (LOGBACK) {
			super.initialize(context, configLocation, logFile);
		}
	}

	/**
	 * Leaves Logback set up when a context closes, so that the next context to start
	 * finds it set up and leaves it alone.
	 */
	@Override
	public void cleanUp() {
	}

}
