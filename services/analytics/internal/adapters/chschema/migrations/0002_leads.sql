-- Current state of every lead. Grain: one lead; every event of the lead writes a new row with
-- its stream sequence, so read with argMax(col, seq) GROUP BY tenant, lead_id, or FINAL.
CREATE TABLE IF NOT EXISTS leads
(
    tenant String,
    lead_id String,
    seq UInt64,
    status String,
    source String,
    campaign_id String,
    owner_id String,
    territory_id String,
    country String,
    industry String,
    total_score Int64,
    created_at DateTime,
    updated_at DateTime,
    converted_at DateTime,
    account_id String,
    contact_id String,
    opportunity_id String,
    merged_into_id String,
    aggregate_version UInt64
)
ENGINE = ReplacingMergeTree(seq)
ORDER BY (tenant, lead_id);
