package com.example.catalog.support;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.logging.LoggingInitializationContext;
import org.springframework.boot.logging.LoggingSystem;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.ConfigurableEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * While one test class's Spring context closes and another's starts, the contexts still
 * running keep their log lines: the classes that assert on their own lines lost one now
 * and then when Logback was set up afresh for every context (Spring Boot suppresses every
 * line of the process from a context's start until its logging is configured).
 */
@SpringBootTest(classes = SerialLogbackLoggingSystemTests.Empty.class,
		webEnvironment = SpringBootTest.WebEnvironment.NONE)
@ExtendWith(ProcessOutput.class)
class SerialLogbackLoggingSystemTests {

	private static final Logger logger = LoggerFactory.getLogger(SerialLogbackLoggingSystemTests.class);

	@Autowired
	private ConfigurableEnvironment environment;

	@Test
	void aContextClosingAndAnotherStartingSilenceNoOtherContextsLines(CapturedOutput output) {
		ClassLoader classLoader = getClass().getClassLoader();
		// What Spring Boot's logging listener does when a context closes, then when the
		// next one starts.
		LoggingSystem.get(classLoader).cleanUp();
		LoggingSystem starting = LoggingSystem.get(classLoader);
		starting.beforeInitialize();
		try {
			logger.warn("a line written while another context starts");
			assertThat(output.getOut()).contains("a line written while another context starts");
		}
		finally {
			starting.initialize(new LoggingInitializationContext(this.environment), null, null);
		}
	}

	@Test
	void theLoggingSystemOfTheTestsIsTheSerialOne() {
		assertThat(LoggingSystem.get(getClass().getClassLoader())).isInstanceOf(SerialLogbackLoggingSystem.class);
	}

	@Configuration(proxyBeanMethods = false)
	static class Empty {

	}

}
