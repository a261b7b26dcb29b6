-- One row per converted lead (LeadConverted); a lead converts once.
CREATE TABLE IF NOT EXISTS conversions
(
    tenant String,
    lead_id String,
    seq UInt64,
    at DateTime,
    account_id String,
    contact_id String,
    opportunity_id String,
    source String,
    campaign_id String,
    owner_id String
)
ENGINE = ReplacingMergeTree(seq)
ORDER BY (tenant, lead_id);
