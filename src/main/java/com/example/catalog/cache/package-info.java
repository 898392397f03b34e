/**
 * Cache-aside on Redis, knowing nothing of products beyond ids, versions and JSON bytes:
 * the read side ({@code ProductCache}, {@code NearCache}, {@code ProductPageCache}), the
 * write side ({@code ProductInvalidations} and its {@code ReplicatedMarkers}), the key
 * layout ({@code ProductKeys}), and the connection with its guard. Uses no other room.
 */
package com.example.catalog.cache;
