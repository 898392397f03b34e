package com.example.catalog.web;

import java.net.InetAddress;
import java.net.UnknownHostException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Says loudly at start when anyone who can reach the port may write: no API key, and a
 * listening address beyond loopback. Keyless writes stay allowed for the clients that
 * rely on them.
 */
@Component
class OpenWritesWarning {

	private static final Logger logger = LoggerFactory.getLogger(OpenWritesWarning.class);

	OpenWritesWarning(ApiProperties api, Environment environment) {
		String address = environment.getProperty("server.address", "");
		if (!api.requiresKey() && !isLoopback(address)) {
			logger.warn("*** API_KEY is not set and the service listens on {}: anyone who can reach it can create, "
					+ "change and delete products. Set API_KEY (at least {} characters), or SERVER_ADDRESS=127.0.0.1 "
					+ "behind a proxy on the same host ***", address.isEmpty() ? "every interface" : address,
					ApiProperties.MIN_KEY_LENGTH);
		}
	}

	private static boolean isLoopback(String address) {
		if (address.isEmpty()) {
			return false;
		}
		try {
			return InetAddress.getByName(address).isLoopbackAddress();
		}
		catch (UnknownHostException ex) {
			return false;
		}
	}

}
