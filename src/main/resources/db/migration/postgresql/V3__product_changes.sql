-- The change feed (product/ProductChangeFeed): every committed change to products, whoever
-- made it (this service, psql, an import), leaves one row here in the writer's own
-- transaction. Transactions commit in another order than they draw seq values, so the feed
-- reads in (tx, seq) order and only rows of transactions older than every one still running
-- (pg_snapshot_xmin): those can no longer be joined by a row that sorts before them.
-- changed_at is epoch milliseconds, for the lag and the pruning.
CREATE TABLE product_changes (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx         XID8   NOT NULL DEFAULT pg_current_xact_id(),
    product_id BIGINT NOT NULL,
    changed_at BIGINT NOT NULL DEFAULT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT
);
CREATE INDEX product_changes_tx_seq ON product_changes (tx, seq);
CREATE INDEX product_changes_changed_at ON product_changes (changed_at);

-- How far the feed has applied the changes, one row per cache (its Redis key prefix), shared by
-- every instance of that cache. A new cache starts at the newest change.
CREATE TABLE product_change_cursor (
    name VARCHAR(200) PRIMARY KEY,
    tx   XID8   NOT NULL,
    seq  BIGINT NOT NULL
);

-- A change that leaves version alone or lowers it (a restore, a hand-written UPDATE) still
-- gets a new version, so that ETags change and a cache fill that raced the change is refused,
-- as for the service's own writes. name_lower alone (the feed's own repair of the search
-- column) is not a visible change.
CREATE FUNCTION products_version_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.version <= OLD.version
       AND (NEW.version, NEW.name, NEW.description, NEW.price_cents, NEW.stock_quantity, NEW.created_at, NEW.updated_at)
           IS DISTINCT FROM
           (OLD.version, OLD.name, OLD.description, OLD.price_cents, OLD.stock_quantity, OLD.created_at, OLD.updated_at)
    THEN
        NEW.version := OLD.version + 1;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER products_version_guard BEFORE UPDATE ON products
    FOR EACH ROW EXECUTE FUNCTION products_version_guard();

CREATE FUNCTION products_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO product_changes (product_id) VALUES (OLD.id);
    ELSE
        INSERT INTO product_changes (product_id) VALUES (NEW.id);
        IF TG_OP = 'UPDATE' AND OLD.id <> NEW.id THEN
            INSERT INTO product_changes (product_id) VALUES (OLD.id);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER products_record_change AFTER INSERT OR UPDATE OR DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION products_record_change();

-- Wakes the instances that LISTEN, at commit: once per statement, not per row (an import of
-- 100,000 rows sends one notification per statement, and PostgreSQL folds identical ones of
-- one transaction into one).
CREATE FUNCTION products_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('product_changes', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER products_notify_change AFTER INSERT OR UPDATE OR DELETE ON products
    FOR EACH STATEMENT EXECUTE FUNCTION products_notify_change();
