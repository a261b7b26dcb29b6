-- Current state of every campaign. Grain: one campaign; read with argMax(col, seq) or FINAL.
CREATE TABLE IF NOT EXISTS campaigns
(
    tenant String,
    campaign_id String,
    seq UInt64,
    name String,
    channel String,
    status String,
    parent_campaign_id String,
    owner_id String,
    start_date Date,
    end_date Date,
    budget_micros Int64,
    actual_cost_micros Int64,
    currency String,
    created_at DateTime,
    aggregate_version UInt64
)
ENGINE = ReplacingMergeTree(seq)
ORDER BY (tenant, campaign_id);
