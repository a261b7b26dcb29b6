-- Versions of the migrations applied to this database (internal/adapters/chschema). A version
-- may be recorded twice when two replicas start at once; read it with DISTINCT.
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version UInt32,
    name String,
    applied_at DateTime
)
ENGINE = MergeTree
ORDER BY version;
