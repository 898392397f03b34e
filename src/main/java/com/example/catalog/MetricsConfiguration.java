package com.example.catalog;

import io.micrometer.core.instrument.config.MeterFilter;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * What the metrics may say. Lettuce's command observations tag every series with Redis's
 * address and the client's ephemeral port: that leaks where Redis lives, and each
 * reconnect starts new series. Those tags are dropped from every meter.
 */
@Configuration(proxyBeanMethods = false)
class MetricsConfiguration {

	@Bean
	MeterFilter noNetworkPeerTags() {
		return MeterFilter.ignoreTags("net.sock.peer.addr", "net.sock.peer.port", "net.peer.name", "net.peer.port",
				"server.address", "server.port", "network.peer.address", "network.peer.port");
	}

}
