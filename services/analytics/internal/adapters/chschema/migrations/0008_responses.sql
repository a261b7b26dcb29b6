-- One row per CampaignMemberResponded.
CREATE TABLE IF NOT EXISTS responses
(
    tenant String,
    campaign_id String,
    seq UInt64,
    event_id String,
    member_type String,
    person_id String,
    at DateTime,
    status String,
    kind String,
    responded UInt8,
    first_response UInt8,
    channel String
)
ENGINE = ReplacingMergeTree(seq)
ORDER BY (tenant, campaign_id, seq);
