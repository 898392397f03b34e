package com.example.catalog.product;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.example.catalog.support.IntegrationTest;
import com.example.catalog.support.TestEnvironment;
import com.example.catalog.support.TestProducts;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.DefaultApplicationArguments;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code SEED_DEMO_DATA=true}: the demo catalog is there to browse after start-up, and is
 * never loaded into a database that already holds products.
 */
@IntegrationTest
class DemoCatalogTests {

	@DynamicPropertySource
	static void environment(DynamicPropertyRegistry registry) {
		TestEnvironment.register(registry);
		registry.add("catalog.products.seed-demo-data", () -> "true");
	}

	@Autowired
	private RestTestClient http;

	@Autowired
	private DemoCatalog demoCatalog;

	@Test
	void loadsTheDemoCatalogIntoAnEmptyDatabaseOnlyOnce() {
		Map<String, Object> page = list();
		assertThat(page).containsEntry("total_items", DemoCatalog.PRODUCTS.size());
		assertThat(names(page)).contains("Espresso cup", "Moka pot", "Fountain pen");

		// As at a restart: the database is no longer empty.
		this.demoCatalog.run(new DefaultApplicationArguments());

		assertThat(list()).containsEntry("total_items", DemoCatalog.PRODUCTS.size());
	}

	private Map<String, Object> list() {
		return this.http.get()
			.uri("/products?size=100")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody(TestProducts.JSON_OBJECT)
			.returnResult()
			.getResponseBody();
	}

	@SuppressWarnings("unchecked")
	private static List<String> names(Map<String, Object> page) {
		return ((List<Map<String, Object>>) page.get("items")).stream()
			.map((item) -> (String) item.get("name"))
			.toList();
	}

}
