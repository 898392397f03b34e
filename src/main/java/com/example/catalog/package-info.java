/**
 * The application: its entry point and the metrics set-up shared by every room. The rooms
 * are {@code web} (HTTP concerns), {@code product} (the catalog's use cases),
 * {@code cache} (cache-aside on Redis) and {@code database} (the data source); imports
 * run {@code web → product → cache}, {@code database} apart, as {@code ArchitectureTests}
 * checks.
 */
package com.example.catalog;
