-- Listing and search. name_lower holds the name lower-cased by the service (Java's Unicode
-- rules, so both databases agree): the exact-name lookup is an equality on it and the name
-- sort reads it in index order, with no expression index or collation to keep in step.
ALTER TABLE products ADD COLUMN name_lower VARCHAR(200) NOT NULL DEFAULT '';
UPDATE products SET name_lower = lower(name);

-- Each sort key with id as the tie-break, so a page is one ordered index range scan;
-- name_lower's index also serves the exact-name filter, price's the price range filters.
-- text_pattern_ops is not needed: the contains search (LIKE '%q%') cannot use a B-tree on
-- either database and scans name_lower.
CREATE INDEX products_name_lower_id ON products (name_lower, id);
CREATE INDEX products_price_id ON products (price_cents, id);
CREATE INDEX products_created_at_id ON products (created_at, id);
CREATE INDEX products_updated_at_id ON products (updated_at, id);
-- in_stock (stock_quantity > 0), and counting it.
CREATE INDEX products_stock_quantity ON products (stock_quantity);
