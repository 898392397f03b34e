package com.example.catalog.support;

import org.springframework.boot.logging.LogFile;
import org.springframework.boot.logging.LoggingInitializationContext;
import org.springframework.boot.logging.logback.LogbackLoggingSystem;

/**
 * Spring Boot's Logback set-up, done by one Spring context at a time. The test JVM starts
 * several contexts at once (test classes run in parallel, some start a second instance),
 * and they all configure Logback's one logger context: one context resetting it while
 * another builds its appenders left that one without its Spring environment ("Unable to
 * find Spring Environment in logger context"), and its start failed. Named by the
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

	@Override
	public void cleanUp() {
		synchronized (LOGBACK) {
			super.cleanUp();
		}
	}

}
