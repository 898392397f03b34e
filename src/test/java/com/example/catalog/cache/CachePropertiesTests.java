package com.example.catalog.cache;

import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;

/** Cache settings a user can get wrong stop start-up with the property named. */
class CachePropertiesTests {

	private final ApplicationContextRunner context = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
		.withUserConfiguration(Settings.class);

	@Test
	void defaultsMatchTheDocumentation() {
		this.context.run((started) -> {
			CacheProperties properties = started.getBean(CacheProperties.class);
			assertThat(properties.ttl()).hasSeconds(3600);
			assertThat(properties.negativeTtl()).hasSeconds(30);
			assertThat(properties.ttlJitter()).isEqualTo(0.1);
			assertThat(properties.keyPrefix()).isEqualTo("product:");
		});
	}

	@Test
	void theNearCacheIsAutoByDefaultAndTakesTrueFalseAndAuto() {
		this.context.run((started) -> assertThat(started.getBean(NearCacheProperties.class).enabled())
			.isEqualTo(NearCacheProperties.Mode.AUTO));
		this.context.withPropertyValues("catalog.cache.near.enabled=true")
			.run((started) -> assertThat(started.getBean(NearCacheProperties.class).enabled())
				.isEqualTo(NearCacheProperties.Mode.ON));
		this.context.withPropertyValues("catalog.cache.near.enabled=false")
			.run((started) -> assertThat(started.getBean(NearCacheProperties.class).enabled())
				.isEqualTo(NearCacheProperties.Mode.OFF));
		this.context.withPropertyValues("catalog.cache.near.enabled=AUTO")
			.run((started) -> assertThat(started.getBean(NearCacheProperties.class).enabled())
				.isEqualTo(NearCacheProperties.Mode.AUTO));
		this.context.withPropertyValues("catalog.cache.near.enabled=sometimes")
			.run((started) -> assertThat(started).getFailure().rootCause().hasMessageContaining("sometimes"));
	}

	@Test
	void refusesNegativeOrZeroTtls() {
		this.context.withPropertyValues("catalog.cache.ttl=-5s")
			.run((started) -> assertThat(started).getFailure().rootCause().hasMessageContaining("catalog.cache.ttl"));
		this.context.withPropertyValues("catalog.cache.negative-ttl=0s")
			.run((started) -> assertThat(started).getFailure()
				.rootCause()
				.hasMessageContaining("catalog.cache.negativeTtl"));
	}

	@Test
	void refusesJitterAboveHalfTheTtl() {
		this.context.withPropertyValues("catalog.cache.ttl-jitter=0.9")
			.run((started) -> assertThat(started).getFailure()
				.rootCause()
				.hasMessageContaining("catalog.cache.ttlJitter"));
	}

	@Test
	void auditDefaultsMatchTheDocumentation() {
		this.context.run((started) -> {
			CacheAuditProperties audit = started.getBean(CacheAuditProperties.class);
			assertThat(audit.sample()).isEqualTo(0.01);
			assertThat(audit.maxPerSecond()).isEqualTo(20);
			assertThat(audit.delay()).hasSeconds(1);
		});
	}

	@Test
	void refusesAnAuditSampleOutsideZeroToOneABudgetBelowOneAndAnOddDelay() {
		this.context.withPropertyValues("catalog.cache.audit.sample=1.5")
			.run((started) -> assertThat(started).getFailure()
				.rootCause()
				.hasMessageContaining("catalog.cache.audit.sample"));
		this.context.withPropertyValues("catalog.cache.audit.max-per-second=0")
			.run((started) -> assertThat(started).getFailure()
				.rootCause()
				.hasMessageContaining("catalog.cache.audit.maxPerSecond"));
		this.context.withPropertyValues("catalog.cache.audit.delay=10ms")
			.run((started) -> assertThat(started).getFailure()
				.rootCause()
				.hasMessageContaining("catalog.cache.audit.delay"));
	}

	@Test
	void theFillLeaseIsOnByDefaultAndZeroTurnsItOff() {
		this.context.run((started) -> {
			FillLeaseProperties lease = started.getBean(FillLeaseProperties.class);
			assertThat(lease.duration()).hasMillis(300);
			assertThat(lease.enabled()).isTrue();
		});
		this.context.withPropertyValues("catalog.cache.lease.duration=0")
			.run((started) -> assertThat(started.getBean(FillLeaseProperties.class).enabled()).isFalse());
	}

	@Test
	void refusesANegativeOrLongFillLease() {
		for (String duration : new String[] { "-1ms", "11s" }) {
			this.context.withPropertyValues("catalog.cache.lease.duration=" + duration)
				.run((started) -> assertThat(started).getFailure()
					.rootCause()
					.hasMessageContaining("catalog.cache.lease.duration"));
		}
	}

	@Configuration(proxyBeanMethods = false)
	@EnableConfigurationProperties({ CacheProperties.class, CacheAuditProperties.class, FillLeaseProperties.class,
			NearCacheProperties.class })
	static class Settings {

	}

}
