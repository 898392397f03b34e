package com.example.textbook;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.CommandLineRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.cache.annotation.EnableCaching;
import org.springframework.context.annotation.Bean;

/**
 * The textbook app: starts the service and seeds SEED_COUNT products (ids 1..N) into an empty table.
 */
@SpringBootApplication
@EnableCaching
public class TextbookApplication {

	public static void main(String[] args) {
		SpringApplication.run(TextbookApplication.class, args);
	}

	@Bean
	CommandLineRunner seed(ProductRepository repository, @Value("${seed.count:0}") int count) {
		return (args) -> {
			if (repository.count() > 0) {
				return;
			}
			List<Product> products = new ArrayList<>();
			for (int i = 1; i <= count; i++) {
				products.add(new Product("seed-" + i, "seeded for the benchmark",
						new BigDecimal((i % 500 + 1) + "." + String.format("%02d", i % 100)), i % 50));
			}
			repository.saveAll(products);
		};
	}

}
