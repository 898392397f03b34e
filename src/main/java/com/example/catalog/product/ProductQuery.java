package com.example.catalog.product;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.springframework.data.domain.PageRequest;
import org.springframework.data.domain.Sort;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.util.MultiValueMap;
import org.springframework.web.ErrorResponseException;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * The parameters of {@code GET /products}, validated and normalized: two requests that
 * ask for the same page (other letter case in {@code name}, {@code 10} or {@code 10.00}
 * as a price, default values written out or left away) get the same canonical form, which
 * names the page in the cache and in the {@code Link} headers.
 *
 * @param page 0-based page number
 * @param size items per page, 1 to {@value #MAX_SIZE}
 * @param sort the sort key
 * @param descending whether the sort (and its tie-break by id) runs downwards
 * @param contains lower-cased text the name must contain, or null
 * @param name lower-cased exact name, or null
 * @param minPriceCents lowest price in cents, or null
 * @param maxPriceCents highest price in cents, or null
 * @param inStock true: only stock above 0; false: only stock 0; null: both
 */
record ProductQuery(int page, int size, SortKey sort, boolean descending, String contains, String name,
		Long minPriceCents, Long maxPriceCents, Boolean inStock) {

	static final int DEFAULT_SIZE = 20;

	static final int MAX_SIZE = 100;

	static final int MAX_PAGE = 1_000_000;

	static final Set<String> PARAMETERS = Set.of("page", "size", "sort", "q", "name", "min_price", "max_price",
			"in_stock");

	private static final Pattern PLAIN_INTEGER = Pattern.compile("0|[1-9][0-9]{0,8}");

	// The same bounds as a price in a body: at most 15 digits before the point and 2
	// after.
	private static final Pattern PLAIN_PRICE = Pattern.compile("[0-9]{1,15}(\\.[0-9]{1,2})?");

	private static final Pattern NO_CONTROLS = Pattern.compile(ProductRequest.NO_CONTROLS);

	/** What a page can be sorted by, with the entity attribute behind each. */
	enum SortKey {

		ID("id", "id"), NAME("name", "nameLower"), PRICE("price", "priceCents"), CREATED_AT("created_at", "createdAt"),
		UPDATED_AT("updated_at", "updatedAt");

		private final String parameter;

		private final String attribute;

		SortKey(String parameter, String attribute) {
			this.parameter = parameter;
			this.attribute = attribute;
		}

		static SortKey of(String parameter) {
			for (SortKey key : values()) {
				if (key.parameter.equals(parameter)) {
					return key;
				}
			}
			return null;
		}

	}

	/**
	 * Reads the query parameters of a list request. Unknown, repeated and malformed
	 * parameters are refused (400, each named), so that a typo such as {@code min-price}
	 * does not silently return the unfiltered catalog.
	 */
	static ProductQuery from(MultiValueMap<String, String> parameters) {
		Errors errors = new Errors();
		for (Map.Entry<String, List<String>> parameter : parameters.entrySet()) {
			if (!PARAMETERS.contains(parameter.getKey())) {
				errors.add(parameter.getKey(),
						"is not a known parameter; known are page, size, sort, q, name, min_price, max_price and in_stock, "
								+ "or ids alone");
			}
			else if (parameter.getValue().size() > 1) {
				errors.add(parameter.getKey(), "must be given at most once");
			}
		}
		int page = integer(parameters.getFirst("page"), 0, 0, MAX_PAGE, "page", errors);
		int size = integer(parameters.getFirst("size"), DEFAULT_SIZE, 1, MAX_SIZE, "size", errors);
		String sortText = parameters.getFirst("sort");
		SortKey sort = SortKey.ID;
		boolean descending = false;
		if (sortText != null) {
			String field = sortText;
			if (field.startsWith("-")) {
				descending = true;
				field = field.substring(1);
			}
			else if (field.endsWith(",desc")) {
				descending = true;
				field = field.substring(0, field.length() - ",desc".length());
			}
			else if (field.endsWith(",asc")) {
				field = field.substring(0, field.length() - ",asc".length());
			}
			sort = SortKey.of(field);
			if (sort == null) {
				errors.add("sort", "must be one of name, price, created_at, updated_at or id, "
						+ "optionally with a - prefix or a ,desc suffix for descending order");
			}
		}
		String contains = text(parameters.getFirst("q"), "q", errors);
		if (contains != null && contains.isEmpty()) {
			// An empty search box: everything contains the empty string.
			contains = null;
		}
		String name = text(parameters.getFirst("name"), "name", errors);
		if (name != null) {
			// Stored names are stripped, so an exact name is too.
			name = name.strip();
			if (name.isEmpty()) {
				errors.add("name", "must not be blank");
			}
		}
		Long minPrice = cents(parameters.getFirst("min_price"), "min_price", errors);
		Long maxPrice = cents(parameters.getFirst("max_price"), "max_price", errors);
		if (minPrice != null && maxPrice != null && minPrice > maxPrice) {
			errors.add("min_price", "must not be greater than max_price");
		}
		Boolean inStock = bool(parameters.getFirst("in_stock"), "in_stock", errors);
		errors.throwIfAny();
		return new ProductQuery(page, size, sort, descending, (contains != null) ? Product.lowerCase(contains) : null,
				(name != null) ? Product.lowerCase(name) : null, minPrice, maxPrice, inStock);
	}

	/** The page's rows in the database: the sort key, then id in the same direction. */
	PageRequest pageRequest() {
		Sort.Direction direction = this.descending ? Sort.Direction.DESC : Sort.Direction.ASC;
		Sort order = (this.sort == SortKey.ID) ? Sort.by(direction, "id")
				: Sort.by(direction, this.sort.attribute, "id");
		return PageRequest.of(this.page, this.size, order);
	}

	long offset() {
		return (long) this.page * this.size;
	}

	long totalPages(long totalItems) {
		return (totalItems + this.size - 1) / this.size;
	}

	/** The canonical query string of this page: its name in the cache. */
	String pageKey() {
		return queryString(this.page);
	}

	/**
	 * The canonical query string of the filters alone: every page and sort order of one
	 * search shares its count.
	 */
	String filterKey() {
		return filters().toString();
	}

	/**
	 * The {@code Link} header: {@code first}, {@code last}, and {@code prev}/{@code next}
	 * where such a page exists (RFC 8288), with this request's other parameters.
	 */
	String links(long totalPages) {
		long last = Math.max(0, totalPages - 1);
		List<String> links = new ArrayList<>();
		links.add(link(0, "first"));
		if (this.page > 0) {
			links.add(link((int) Math.min(this.page - 1, last), "prev"));
		}
		if (this.page < last) {
			links.add(link(this.page + 1, "next"));
		}
		links.add(link(last, "last"));
		return String.join(", ", links);
	}

	private String link(long page, String relation) {
		return "<" + queryString(page) + ">; rel=\"" + relation + "\"";
	}

	private String queryString(long page) {
		UriComponentsBuilder uri = UriComponentsBuilder.fromPath("/products");
		filters().forEach(uri::queryParam);
		if (this.sort != SortKey.ID || this.descending) {
			uri.queryParam("sort", (this.descending ? "-" : "") + this.sort.parameter);
		}
		uri.queryParam("page", page);
		uri.queryParam("size", this.size);
		return uri.encode().build().toUriString();
	}

	private Map<String, String> filters() {
		Map<String, String> filters = new LinkedHashMap<>();
		if (this.contains != null) {
			filters.put("q", this.contains);
		}
		if (this.name != null) {
			filters.put("name", this.name);
		}
		if (this.minPriceCents != null) {
			filters.put("min_price", BigDecimal.valueOf(this.minPriceCents, 2).toPlainString());
		}
		if (this.maxPriceCents != null) {
			filters.put("max_price", BigDecimal.valueOf(this.maxPriceCents, 2).toPlainString());
		}
		if (this.inStock != null) {
			filters.put("in_stock", this.inStock.toString());
		}
		return filters;
	}

	private static int integer(String text, int absent, int min, int max, String parameter, Errors errors) {
		if (text == null) {
			return absent;
		}
		if (!PLAIN_INTEGER.matcher(text).matches() || Integer.parseInt(text) < min || Integer.parseInt(text) > max) {
			errors.add(parameter, "must be a whole number from " + min + " to " + max);
			return absent;
		}
		return Integer.parseInt(text);
	}

	private static String text(String text, String parameter, Errors errors) {
		if (text == null) {
			return null;
		}
		if (text.length() > 200 || !NO_CONTROLS.matcher(text).matches()) {
			errors.add(parameter, "must be at most 200 characters, without control characters");
			return null;
		}
		return text;
	}

	private static Long cents(String text, String parameter, Errors errors) {
		if (text == null) {
			return null;
		}
		if (!PLAIN_PRICE.matcher(text).matches()) {
			errors.add(parameter, "must be a plain decimal number ≥ 0 with at most 2 decimals, such as 9.99");
			return null;
		}
		return new BigDecimal(text).movePointRight(2).longValueExact();
	}

	private static Boolean bool(String text, String parameter, Errors errors) {
		if (text == null) {
			return null;
		}
		if (!text.equals("true") && !text.equals("false")) {
			errors.add(parameter, "must be true or false");
			return null;
		}
		return Boolean.valueOf(text);
	}

	/**
	 * The problems found, reported together as one 400 that names each parameter, the
	 * first {@value #MAX_NAMED} of them: an 8 KB URL of unknown parameters ("a&b&c...")
	 * would otherwise get a problem fifty times its size.
	 */
	static final class Errors {

		static final int MAX_NAMED = 20;

		private final List<Map<String, String>> found = new ArrayList<>();

		private int more;

		void add(String parameter, String message) {
			if (this.found.size() < MAX_NAMED) {
				this.found.add(Map.of("parameter", parameter, "message", message));
			}
			else {
				this.more++;
			}
		}

		void throwIfAny() {
			if (this.found.isEmpty()) {
				return;
			}
			String detail = this.found.stream()
				.map((error) -> error.get("parameter") + " " + error.get("message"))
				.reduce((a, b) -> a + "; " + b)
				.orElseThrow() + ((this.more > 0) ? "; and " + this.more + " more" : "");
			ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST,
					"Invalid query parameters: " + detail);
			problem.setTitle("Invalid query parameter");
			problem.setProperty("errors", List.copyOf(this.found));
			throw new ErrorResponseException(HttpStatus.BAD_REQUEST, problem, null);
		}

	}

}
