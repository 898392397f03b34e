-- AUTOINCREMENT: ids are never reused after a delete, which the cache's deletion markers rely on.
-- Prices are whole cents so that they stay exact (SQLite has no exact decimal type).
CREATE TABLE products (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           VARCHAR(200)  NOT NULL,
    description    VARCHAR(2000),
    price_cents    BIGINT        NOT NULL CHECK (price_cents >= 0),
    stock_quantity INTEGER       NOT NULL CHECK (stock_quantity >= 0),
    created_at     TIMESTAMP     NOT NULL,
    updated_at     TIMESTAMP     NOT NULL,
    version        BIGINT        NOT NULL
);
