/**
 * What HTTP needs beyond the product resource: the filter that bounds every request and
 * sets the security headers, API keys and per-client limits, problem+json errors, the
 * OpenAPI document's shared parts and {@code /health}. May use {@code product} and
 * {@code cache}; nothing uses it.
 */
package com.example.catalog.web;
