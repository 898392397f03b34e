package com.example.catalog.web;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Settings of the HTTP API, bound from {@code catalog.api.*}.
 *
 * @param key when set ({@code API_KEY}), writes need it in the {@code X-API-Key} header;
 * reads stay open
 * @param maxBodySize largest request body accepted; larger ones get 413
 */
@ConfigurationProperties("catalog.api")
public record ApiProperties(String key, @DefaultValue("64KB") DataSize maxBodySize) {

	boolean requiresKey() {
		return this.key != null && !this.key.isEmpty();
	}

}
