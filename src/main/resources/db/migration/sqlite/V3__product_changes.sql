-- The change feed (product/ProductChangeFeed): every committed change to products, whoever
-- made it (this service, sqlite3, an import), leaves one row here in the writer's own
-- transaction. The service reads the rows in seq order and invalidates the cache; a single
-- writer at a time means seq is also the order of the commits. tx is 0 here (PostgreSQL
-- orders by transaction id); changed_at is epoch milliseconds, for the lag and the pruning.
CREATE TABLE product_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    tx         BIGINT NOT NULL DEFAULT 0,
    product_id BIGINT NOT NULL,
    changed_at BIGINT NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
);
CREATE INDEX product_changes_changed_at ON product_changes (changed_at);

-- How far the feed has applied the changes, one row per cache (its Redis key prefix), shared by
-- every instance of that cache. A new cache starts at the newest change.
CREATE TABLE product_change_cursor (
    name VARCHAR(200) PRIMARY KEY,
    tx   BIGINT NOT NULL,
    seq  BIGINT NOT NULL
);

-- A change that leaves version alone or lowers it (a restore, a hand-written UPDATE) still
-- gets a new version, so that ETags change and a cache fill that raced the change is refused,
-- as for the service's own writes. SQLite triggers cannot assign NEW: a guarded UPDATE of the
-- same row, which fires no trigger again (recursive_triggers is off). name_lower alone (the
-- feed's own repair of the search column) is not a visible change.
CREATE TRIGGER products_version_guard AFTER UPDATE ON products
WHEN NEW.version <= OLD.version
 AND (NEW.version IS NOT OLD.version OR NEW.name IS NOT OLD.name OR NEW.description IS NOT OLD.description
      OR NEW.price_cents IS NOT OLD.price_cents OR NEW.stock_quantity IS NOT OLD.stock_quantity
      OR NEW.created_at IS NOT OLD.created_at OR NEW.updated_at IS NOT OLD.updated_at)
BEGIN
    UPDATE products SET version = OLD.version + 1 WHERE id = NEW.id;
END;

CREATE TRIGGER products_changed_insert AFTER INSERT ON products
BEGIN
    INSERT INTO product_changes (product_id) VALUES (NEW.id);
END;

CREATE TRIGGER products_changed_update AFTER UPDATE ON products
BEGIN
    INSERT INTO product_changes (product_id) VALUES (NEW.id);
    INSERT INTO product_changes (product_id) SELECT OLD.id WHERE OLD.id <> NEW.id;
END;

CREATE TRIGGER products_changed_delete AFTER DELETE ON products
BEGIN
    INSERT INTO product_changes (product_id) VALUES (OLD.id);
END;
