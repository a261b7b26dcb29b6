-- Current state of every contact (for the account timeline). Grain: one contact; read with
-- argMax(col, seq) or FINAL.
CREATE TABLE IF NOT EXISTS contacts
(
    tenant String,
    contact_id String,
    seq UInt64,
    account_id String,
    source_lead_id String,
    created_at DateTime,
    aggregate_version UInt64
)
ENGINE = ReplacingMergeTree(seq)
ORDER BY (tenant, contact_id);
