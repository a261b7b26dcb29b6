-- Schema version 3: the state of a bulk load (see bulk.go).
--
-- While a rebuild from the start of the stream is loading, this table holds
-- the definition of every secondary index of leads that was dropped for it;
-- the search index is not maintained either. Finishing the load creates the
-- indexes, rebuilds leads_fts from leads and empties the table, in one
-- transaction. Empty: no bulk load is in progress.
CREATE TABLE bulk_load (
    index_name TEXT PRIMARY KEY,
    index_sql  TEXT NOT NULL
) WITHOUT ROWID;
