package com.example.catalog.cache;

import java.time.Duration;

import jakarta.validation.constraints.NotNull;
import org.hibernate.validator.constraints.time.DurationMin;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Settings of the cached product list pages, bound from {@code catalog.cache.page.*}
 * (environment variable {@code CACHE_PAGE_TTL_SECONDS}).
 *
 * @param ttl how long a list page, and the count of a search, stay cached. Short: it
 * bounds how long another instance that could not reach Redis during a write may go on
 * serving pages from before it.
 */
@Validated
@ConfigurationProperties("catalog.cache.page")
public record PageCacheProperties(@NotNull @DurationMin(seconds = 1) @DefaultValue("60s") Duration ttl) {

}
