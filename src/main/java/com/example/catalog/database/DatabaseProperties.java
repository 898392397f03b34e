package com.example.catalog.database;

import java.time.Duration;

import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMin;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Settings of the connection pool, bound from {@code catalog.database.*} (environment
 * variable {@code DATABASE_CONNECTION_TIMEOUT}).
 *
 * @param connectionTimeout how long a request waits for a pooled connection before it
 * gets a 503. SQLite's pool holds one connection, so every request queued behind a write
 * that waits on another process's lock waits this long; Hikari's own default (30 s) is
 * longer than any client or load balancer waits. Hikari refuses less than 250 ms.
 */
@Validated
@ConfigurationProperties("catalog.database")
public record DatabaseProperties(@NotNull @DurationMin(millis = 250) @DefaultValue("5s") Duration connectionTimeout) {

}
