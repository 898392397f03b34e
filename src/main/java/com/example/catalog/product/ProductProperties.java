package com.example.catalog.product;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Settings of the products API, bound from {@code catalog.products.*}.
 *
 * @param cacheControl the {@code Cache-Control} header of successful reads
 * ({@code CACHE_CONTROL}), at most 200 characters (the document says so); the default
 * {@code no-cache} lets clients keep an answer but makes them revalidate it with its ETag
 * (a cheap 304) before each use
 * @param seedDemoData whether to load a small demo catalog into an empty database at
 * start-up ({@code SEED_DEMO_DATA})
 */
@Validated
@ConfigurationProperties("catalog.products")
public record ProductProperties(@NotBlank @Size(max = 200) @DefaultValue("no-cache") String cacheControl,
		@DefaultValue("false") boolean seedDemoData) {

}
