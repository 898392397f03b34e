/**
 * The catalog's products: the entity and its repository, the REST resource, its request
 * and response records, and {@code ProductService}, where each read and write path of
 * cache-aside is told in order. Uses {@code cache}; used only by {@code web}.
 */
package com.example.catalog.product;
