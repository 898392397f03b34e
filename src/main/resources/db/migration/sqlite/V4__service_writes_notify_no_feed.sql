-- The twin of PostgreSQL's V4, which keeps the service's own writes from notifying the change
-- feeds. SQLite has no notifications (the feeds poll), so there is nothing to change here; the
-- file keeps both databases at the same schema version.
SELECT 1;
