-- Listing and search. name_lower holds the name lower-cased by the service (Java's Unicode
-- rules, so both databases agree): the exact-name lookup is an equality on it and the name
-- sort reads it in index order, instead of lower(name) or COLLATE NOCASE, which SQLite
-- folds for ASCII letters only. Rows written before this migration are backfilled with
-- SQLite's lower() (ASCII); the service rewrites the column on each update.
ALTER TABLE products ADD COLUMN name_lower VARCHAR(200) NOT NULL DEFAULT '';
UPDATE products SET name_lower = lower(name);

-- Each sort key with id as the tie-break, so a page is one ordered index range scan;
-- name_lower's index also serves the exact-name filter, price's the price range filters.
CREATE INDEX products_name_lower_id ON products (name_lower, id);
CREATE INDEX products_price_id ON products (price_cents, id);
CREATE INDEX products_created_at_id ON products (created_at, id);
CREATE INDEX products_updated_at_id ON products (updated_at, id);
-- in_stock (stock_quantity > 0), and counting it.
CREATE INDEX products_stock_quantity ON products (stock_quantity);
