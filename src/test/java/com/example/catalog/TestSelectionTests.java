package com.example.catalog;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.example.catalog.support.PackagedService;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Failsafe selects the packaged jar's tests by their tag (the pom's {@code groups}), so a
 * class named {@code *IT} without it would not run at all.
 */
class TestSelectionTests {

	@Test
	void everyTestOfThePackagedJarCarriesTheTagFailsafeSelectsBy() throws IOException {
		Path sources = Path.of("src", "test", "java");
		List<String> its;
		try (Stream<Path> files = Files.walk(sources)) {
			its = files.filter((file) -> file.getFileName().toString().endsWith("IT.java"))
				.map((file) -> sources.relativize(file).toString().replace(".java", "").replace('/', '.'))
				.toList();
		}
		assertThat(its).isNotEmpty().allSatisfy((name) -> {
			Tag tag = Class.forName(name).getAnnotation(Tag.class);
			assertThat(tag).as("@Tag on %s", name).isNotNull();
			assertThat(tag.value()).as("@Tag on %s", name).isEqualTo(PackagedService.TAG);
		});
	}

}
