-- One row per opportunity creation, stage change, win, loss or reopen (stage velocity, time in
-- stage, win rates).
CREATE TABLE IF NOT EXISTS stage_transitions
(
    tenant String,
    opportunity_id String,
    seq UInt64,
    event_id String,
    at DateTime,
    pipeline_id String,
    from_stage_id String,
    from_stage_name String,
    to_stage_id String,
    to_stage_name String,
    outcome String,
    time_in_stage_s Int64,
    amount_micros Int64,
    currency String,
    probability Float64,
    owner_id String,
    source String,
    campaign_id String,
    opportunity_created_at DateTime
)
ENGINE = ReplacingMergeTree(seq)
ORDER BY (tenant, opportunity_id, seq);
