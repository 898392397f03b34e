-- The service's own writes notify no change feed. Its connections say who they are
-- (database/DataSourceConfiguration sets catalog.writer on each), and each instance puts what
-- it committed in Redis itself; the feeds still apply those changes, at their next read. A
-- notification costs more than the write it announces: PostgreSQL commits the transactions
-- that notify one at a time (they do not share a WAL flush), and wakes every listener.
-- Writers outside the service (psql, an import, a restore) still wake the feeds at their commit.
DROP TRIGGER products_notify_change ON products;
CREATE TRIGGER products_notify_change AFTER INSERT OR UPDATE OR DELETE ON products
    FOR EACH STATEMENT
    WHEN (current_setting('catalog.writer', true) IS DISTINCT FROM 'product-catalog')
    EXECUTE FUNCTION products_notify_change();
