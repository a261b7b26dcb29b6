-- One row per CampaignCostRecorded.
CREATE TABLE IF NOT EXISTS costs
(
    tenant String,
    campaign_id String,
    seq UInt64,
    event_id String,
    date Date,
    at DateTime,
    amount_micros Int64,
    currency String,
    channel String
)
ENGINE = ReplacingMergeTree(seq)
ORDER BY (tenant, campaign_id, seq);
