-- One row per LeadStatusChanged (the lead lifecycle funnel).
CREATE TABLE IF NOT EXISTS lead_transitions
(
    tenant String,
    lead_id String,
    seq UInt64,
    event_id String,
    at DateTime,
    from_status String,
    to_status String,
    time_in_previous_s Int64,
    automatic UInt8,
    source String,
    campaign_id String,
    owner_id String,
    territory_id String,
    lead_created_at DateTime
)
ENGINE = ReplacingMergeTree(seq)
ORDER BY (tenant, lead_id, seq);
