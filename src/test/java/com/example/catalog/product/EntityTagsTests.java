package com.example.catalog.product;

import java.util.function.LongPredicate;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The ETag of a version, and which versions an If-Match header names. */
class EntityTagsTests {

	@Test
	void aVersionsTagIsItsNumberQuoted() {
		assertThat(EntityTags.of(0)).isEqualTo("\"0\"");
		assertThat(EntityTags.of(800)).isEqualTo("\"800\"");
	}

	@Test
	void noHeaderMeansNoPrecondition() {
		assertThat(EntityTags.matching(null)).isNull();
	}

	@Test
	void aStrongTagMatchesItsVersionOnly() {
		LongPredicate matches = EntityTags.matching("\"3\"");
		assertThat(matches.test(3)).isTrue();
		assertThat(matches.test(4)).isFalse();
	}

	@Test
	void aListMatchesEachOfItsTags() {
		LongPredicate matches = EntityTags.matching(" \"1\" , \"7\"");
		assertThat(matches.test(1)).isTrue();
		assertThat(matches.test(7)).isTrue();
		assertThat(matches.test(2)).isFalse();
	}

	@Test
	void theWildcardMatchesAnyVersion() {
		assertThat(EntityTags.matching(" * ").test(42)).isTrue();
	}

	@Test
	void weakUnquotedAndForeignTagsMatchNothing() {
		for (String header : new String[] { "W/\"3\"", "3", "\"x3\"", "\"-3\"", "\"1234567890123456789\"", "" }) {
			assertThat(EntityTags.matching(header).test(3)).as(header).isFalse();
		}
	}

}
