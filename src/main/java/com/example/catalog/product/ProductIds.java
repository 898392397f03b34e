package com.example.catalog.product;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.springframework.util.MultiValueMap;

/**
 * The {@code ids} parameter of a batch read, {@code GET /products?ids=1,2,3}: at most
 * {@value #MAX_IDS} plain decimal ids, in the order asked, each once. It stands alone: a
 * batch with a page, a sort or a filter would be a second operation under one name, so
 * any other parameter is refused (400, each named) like a malformed one.
 *
 * @param ids the distinct ids, in the order of their first mention
 */
record ProductIds(List<Long> ids) {

	static final String PARAMETER = "ids";

	static final int MAX_IDS = 100;

	private static final Pattern PLAIN_ID = Pattern.compile("[1-9][0-9]{0,18}");

	/** Whether the request is a batch read rather than a page of the list. */
	static boolean requested(MultiValueMap<String, String> parameters) {
		return parameters.containsKey(PARAMETER);
	}

	/**
	 * Reads the ids of a batch read; refuses an empty list, more than {@value #MAX_IDS}
	 * ids, anything but plain positive decimals between the commas, a repeated
	 * {@code ids}, and every other parameter.
	 */
	static ProductIds from(MultiValueMap<String, String> parameters) {
		ProductQuery.Errors errors = new ProductQuery.Errors();
		for (Map.Entry<String, List<String>> parameter : parameters.entrySet()) {
			if (!PARAMETER.equals(parameter.getKey())) {
				errors.add(parameter.getKey(), "cannot be combined with ids: a batch read takes no other parameter");
			}
			else if (parameter.getValue().size() > 1) {
				errors.add(PARAMETER, "must be given at most once: list the ids separated by commas");
			}
		}
		String text = parameters.getFirst(PARAMETER);
		Set<Long> ids = new LinkedHashSet<>();
		if (text == null || text.isEmpty()) {
			errors.add(PARAMETER, "must list 1 to " + MAX_IDS + " product ids, separated by commas");
		}
		else {
			// Counted before parsing, so a long list costs no more than its first items.
			String[] items = text.split(",", -1);
			if (items.length > MAX_IDS) {
				errors.add(PARAMETER, "must list at most " + MAX_IDS + " ids; " + items.length + " were given");
			}
			else {
				for (int i = 0; i < items.length; i++) {
					Long id = id(items[i]);
					if (id == null) {
						// The item itself is not echoed: it may be anything a URL can
						// carry.
						errors.add(PARAMETER, "item " + (i + 1) + " is not a positive whole number (1 to "
								+ Long.MAX_VALUE + ", plain decimal digits)");
					}
					else {
						ids.add(id);
					}
				}
			}
		}
		errors.throwIfAny();
		return new ProductIds(List.copyOf(ids));
	}

	private static Long id(String text) {
		if (!PLAIN_ID.matcher(text).matches()) {
			return null;
		}
		try {
			return Long.parseLong(text);
		}
		catch (NumberFormatException tooLarge) {
			return null;
		}
	}

}
