package com.example.catalog.web;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.example.catalog.support.ProcessOutput;
import com.example.catalog.support.RunsAlone;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.core.env.MapPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An API key that cannot work stops start-up with API_KEY named; open writes on a public
 * address are announced loudly.
 */
@ExtendWith(ProcessOutput.class)
@RunsAlone // it asserts a warning is absent from the whole process's output
class ApiPropertiesTests {

	private final ApplicationContextRunner context = new ApplicationContextRunner()
		.withUserConfiguration(Settings.class);

	@ParameterizedTest
	@ValueSource(strings = { "   ", "short-key", "0123456789abcde", "schlüssel-0123456789", "key with\ttab-0123456" })
	void refusesKeysThatCannotWork(String key) {
		// Set as it is, spaces included (property values given as "name=value" are
		// trimmed).
		this.context
			.withInitializer((started) -> started.getEnvironment()
				.getPropertySources()
				.addFirst(new MapPropertySource("environment", Map.of("catalog.api.key", key))))
			.run((started) -> assertThat(started).getFailure().rootCause().hasMessageContaining("API_KEY"));
	}

	@Test
	void acceptsNoKeyAndALongAsciiKey() {
		this.context.withPropertyValues("catalog.api.key=").run((started) -> assertThat(started).hasNotFailed());
		this.context.withPropertyValues("catalog.api.key=0123456789abcdef")
			.run((started) -> assertThat(started).hasNotFailed());
	}

	@Test
	void warnsWhenWritesAreOpenOnEveryInterface(CapturedOutput output) {
		this.context.withPropertyValues("catalog.api.key=").run((started) -> assertThat(started).hasNotFailed());

		assertThat(output).contains("WARN").contains("API_KEY is not set");
	}

	@Test
	void staysQuietWhenWritesAreOpenOnLoopbackOnly(CapturedOutput output) {
		this.context.withPropertyValues("catalog.api.key=", "server.address=127.0.0.1")
			.run((started) -> assertThat(started).hasNotFailed());
		this.context.withPropertyValues("catalog.api.key=0123456789abcdef")
			.run((started) -> assertThat(started).hasNotFailed());

		assertThat(output).doesNotContain("API_KEY is not set");
	}

	@Configuration(proxyBeanMethods = false)
	@EnableConfigurationProperties(ApiProperties.class)
	static class Settings {

		@Bean
		OpenWritesWarning openWritesWarning(ApiProperties api, Environment environment) {
			return new OpenWritesWarning(api, environment);
		}

	}

}
