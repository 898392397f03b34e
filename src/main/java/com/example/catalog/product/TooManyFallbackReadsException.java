package com.example.catalog.product;

/**
 * Redis is unavailable and the database already serves as many reads as it can: the read
 * is refused at once rather than queued for a connection.
 */
public class TooManyFallbackReadsException extends RuntimeException {

	TooManyFallbackReadsException(int limit) {
		super("Redis is unavailable and the database is serving " + limit + " reads at once; retry shortly");
	}

}
