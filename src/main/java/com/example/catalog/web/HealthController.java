package com.example.catalog.web;

import java.util.LinkedHashMap;
import java.util.Map;

import com.example.catalog.cache.RedisGuard;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The simple health check of the service, for load balancers and curl. It stays "ok"
 * while Redis is down, because every request is still served from the database.
 */
@RestController
class HealthController {

	private final JdbcTemplate jdbc;

	private final RedisGuard redis;

	HealthController(JdbcTemplate jdbc, RedisGuard redis) {
		this.jdbc = jdbc;
		this.redis = redis;
	}

	@GetMapping("/health")
	ResponseEntity<Map<String, String>> health() {
		boolean databaseUp = databaseAnswers();
		Map<String, String> body = new LinkedHashMap<>();
		body.put("status", databaseUp ? "ok" : "unavailable");
		body.put("database", databaseUp ? "up" : "down");
		body.put("cache", this.redis.ping() ? "up" : "down");
		return ResponseEntity.status(databaseUp ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).body(body);
	}

	private boolean databaseAnswers() {
		try {
			this.jdbc.queryForObject("SELECT 1", Integer.class);
			return true;
		}
		catch (RuntimeException ex) {
			return false;
		}
	}

}
