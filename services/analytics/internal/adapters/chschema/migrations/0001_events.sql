-- Every envelope of CRM_LEADS, CRM_PIPELINE and CRM_CAMPAIGN. Grain: one row per stream event;
-- a redelivered event has the same key (tenant, stream, seq) and collapses (FINAL / argMax).
-- Partitioned by the month JetStream stored the event, not the month it occurred: a batch of
-- the projector holds events stored together, so each insert writes one part, whereas a batch
-- of backfilled or imported history spanning many months wrote a part per month (the events
-- insert was most of the projector's time). A redelivery or a rebuild keeps stored_at, so
-- duplicates still meet in one partition and collapse.
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
PARTITION BY toYYYYMM(stored_at)
ORDER BY (tenant, stream, seq);
