-- Current state of every campaign member. Grain: one person in one campaign; read with
-- argMax(col, seq) or FINAL.
CREATE TABLE IF NOT EXISTS members
(
    tenant String,
    campaign_id String,
    member_type String,
    person_id String,
    member_id String,
    seq UInt64,
    added_at DateTime,
    status String,
    responded UInt8,
    unsubscribed UInt8,
    first_responded_at DateTime,
    last_response_at DateTime,
    aggregate_version UInt64
)
ENGINE = ReplacingMergeTree(seq)
ORDER BY (tenant, campaign_id, member_type, person_id);
