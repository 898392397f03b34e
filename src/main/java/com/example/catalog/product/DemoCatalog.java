package com.example.catalog.product;

import java.math.BigDecimal;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.stereotype.Component;

/**
 * Loads a small demo catalog at start-up when {@code SEED_DEMO_DATA=true}, for exploring
 * the API (Swagger UI, Postman), and only into an empty database: products someone made
 * are never mixed with demo ones.
 */
@Component
class DemoCatalog implements ApplicationRunner {

	private static final Logger logger = LoggerFactory.getLogger(DemoCatalog.class);

	static final List<ProductRequest> PRODUCTS = List.of(product("Espresso cup", "Porcelain, 90 ml", "12.50", 40),
			product("Espresso cup", "Glass, double-walled, 80 ml", "14.90", 25),
			product("Cappuccino cup", "Porcelain, 180 ml, with saucer", "16.00", 30),
			product("Coffee grinder", "Hand grinder, ceramic burrs", "49.00", 8),
			product("Moka pot", "Aluminium, 3 cups", "29.95", 0),
			product("Milk jug", "Stainless steel, 350 ml", "18.50", 15),
			product("Tea kettle", "Enamel, 1.5 l, for every stove", "39.00", 5), product("Teapot", null, "24.00", 12),
			product("Tea strainer", "Stainless steel mesh", "6.50", 60),
			product("Desk lamp", "LED, dimmable", "59.00", 0),
			product("Notebook", "A5, dotted, 120 pages", "9.90", 100),
			product("Fountain pen", "Steel nib, medium", "35.00", 3));

	private final ProductService service;

	private final ProductRepository products;

	private final ProductProperties properties;

	DemoCatalog(ProductService service, ProductRepository products, ProductProperties properties) {
		this.service = service;
		this.products = products;
		this.properties = properties;
	}

	@Override
	public void run(ApplicationArguments arguments) {
		if (!this.properties.seedDemoData()) {
			return;
		}
		if (this.products.count() > 0) {
			logger.info("SEED_DEMO_DATA is set, but the database already holds products: no demo products loaded");
			return;
		}
		// Through the service, so that the cache hears of each one like of any other
		// write.
		PRODUCTS.forEach(this.service::create);
		logger.info("SEED_DEMO_DATA: loaded {} demo products into the empty database", PRODUCTS.size());
	}

	private static ProductRequest product(String name, String description, String price, int stock) {
		return new ProductRequest(name, description, new BigDecimal(price), stock);
	}

}
