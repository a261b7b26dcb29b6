-- Every envelope of CRM_LEADS, CRM_PIPELINE and CRM_CAMPAIGN. Grain: one row per stream event;
-- a redelivered event has the same key (tenant, stream, seq) and collapses (FINAL / argMax).
CREATE TABLE IF NOT EXISTS events
(
    tenant String,
    stream String,
    seq UInt64,
    event_id String,
    aggregate_type String,
    aggregate_id String,
    aggregate_version UInt64,
    event_type String,
    event_type_full String,
    occurred_at DateTime,
    recorded_at DateTime,
    actor String,
    correlation_id String,
    causation_id String,
    payload_json String,
    actor_type String,
    schema_version UInt32,
    stored_at DateTime
)
ENGINE = ReplacingMergeTree(seq)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant, stream, seq);
