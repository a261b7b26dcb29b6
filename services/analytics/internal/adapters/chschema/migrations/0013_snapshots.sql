-- Snapshots of the current state of leads and opportunities, so that the metric queries read
-- most rows from a plain table instead of collapsing every version with FINAL (on 18.16 a
-- single-threaded merge of all parts; package chsnapshot, docs/analytics.md "Snapshots").
--
-- A snapshot is one partition: the FINAL of the source table at a moment when every event up
-- to upto_seq (of the source's stream) had been projected. It is complete once its row is in
-- snapshots (written after the partition's INSERT finished). A query takes the latest snapshot
-- for the entities with no row after upto_seq and reads the others from the source table's
-- rows after upto_seq, with FINAL: the result is the same as FINAL over the whole table.
-- Grain: one row per lead (opportunity) per snapshot. Not a table to query directly: without
-- the rows after upto_seq it is as old as its snapshot.
CREATE TABLE IF NOT EXISTS leads_snapshot
(
    snapshot UInt64,
    tenant String,
    lead_id String,
    status String,
    source String,
    campaign_id String,
    owner_id String,
    territory_id String,
    created_at DateTime,
    converted_at DateTime,
    mql_at DateTime,
    sal_at DateTime,
    sql_at DateTime,
    won_at DateTime,
    merged_into_id String
)
ENGINE = MergeTree
PARTITION BY snapshot
ORDER BY (tenant, created_at, lead_id);

CREATE TABLE IF NOT EXISTS opportunities_snapshot
(
    snapshot UInt64,
    tenant String,
    opportunity_id String,
    pipeline_id String,
    status String,
    amount_micros Int64,
    currency String,
    owner_id String,
    campaign_id String,
    source String,
    created_at DateTime,
    closed_at DateTime
)
ENGINE = MergeTree
PARTITION BY snapshot
ORDER BY (tenant, opportunity_id);

-- The snapshots taken: name ('leads', 'opportunities'), the snapshot's id (its partition; the
-- Unix time in nanoseconds it was started at), the source stream's sequence every event up to
-- which is in it, its rows, when it was registered and how long it took.
CREATE TABLE IF NOT EXISTS snapshots
(
    name String,
    snapshot UInt64,
    upto_seq UInt64,
    rows UInt64,
    taken_at DateTime,
    took_ms UInt64
)
ENGINE = MergeTree
ORDER BY (name, snapshot);
