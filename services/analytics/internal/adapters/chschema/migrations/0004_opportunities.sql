-- Current state of every opportunity. Grain: one opportunity; read with argMax(col, seq) or FINAL.
CREATE TABLE IF NOT EXISTS opportunities
(
    tenant String,
    opportunity_id String,
    seq UInt64,
    name String,
    pipeline_id String,
    stage_id String,
    stage_name String,
    status String,
    forecast_category String,
    probability Float64,
    amount_micros Int64,
    currency String,
    owner_id String,
    account_id String,
    lead_id String,
    campaign_id String,
    source String,
    expected_close_date Date,
    created_at DateTime,
    closed_at DateTime,
    aggregate_version UInt64
)
ENGINE = ReplacingMergeTree(seq)
ORDER BY (tenant, opportunity_id);
