/**
 * Cache-aside on Redis, knowing nothing of products beyond ids, versions and JSON bytes:
 * the read side ({@code ProductCache}, {@code NearCache}, {@code ProductPageCache}), the
 * write side ({@code ProductInvalidations} and its {@code ReplicatedMarkers}), the key
 * layout ({@code ProductKeys}), the connection with its guard, and the consistency audit
 * ({@code CacheAuditor}, {@code FullCacheAudit}), which reads the database through the
 * {@code ProductVersions} port that the product room implements. Uses no other room.
 */
package com.example.catalog.cache;
