package com.example.catalog.web;

import java.util.LinkedHashMap;
import java.util.Map;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import com.example.catalog.cache.RedisGuard;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The simple health check of the service, for load balancers and curl. It stays "ok"
 * while Redis is down, because every request is still served from the database.
 */
@RestController
@Tag(name = "Health")
class HealthController {

	private final JdbcTemplate jdbc;

	private final RedisGuard redis;

	HealthController(JdbcTemplate jdbc, RedisGuard redis) {
		this.jdbc = jdbc;
		this.redis = redis;
	}

	@Operation(summary = "Is the service up?",
			description = "200 while the database answers, also while Redis is down (then \"cache\": \"down\"); "
					+ "503 when the database does not answer.")
	@ApiResponse(responseCode = "200", description = "The database answers",
			content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
					schema = @Schema(ref = "#/components/schemas/Health"),
					examples = @ExampleObject(value = "{\"status\":\"ok\",\"database\":\"up\",\"cache\":\"up\"}")))
	@ApiResponse(responseCode = "400", ref = "#/components/responses/PathParameters")
	@ApiResponse(responseCode = "500", ref = "#/components/responses/InternalError")
	@ApiResponse(responseCode = "503", description = "The database does not answer", content = @Content(
			mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(ref = "#/components/schemas/Health"),
			examples = @ExampleObject(value = "{\"status\":\"unavailable\",\"database\":\"down\",\"cache\":\"up\"}")))
	@GetMapping(path = "/health", produces = MediaType.APPLICATION_JSON_VALUE)
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
