package com.example.catalog.product;

import java.util.List;

/**
 * One page of the product list as the API returns it (serialized in snake_case).
 *
 * @param items the products on this page, in the requested order
 * @param page the 0-based page number
 * @param size the page size asked for
 * @param totalItems how many products match the filters
 * @param totalPages how many pages of this size they fill
 */
record ProductPage(List<ProductResponse> items, int page, int size, long totalItems, long totalPages) {

}
