-- chcompat self-test migration. Written to run unchanged on ClickHouse 18.16 (Debian, tests)
-- and 26.x (chDB; production runs 24.x-26.x): no LowCardinality, no DateTime64, no TTL, no CODEC,
-- the ORDER BY storage syntax (the old MergeTree(date, key, granularity) form is refused by
-- 26.x), and every INSERT names its columns.
--
-- Statements end with a ';' at the end of a line; a whole-line "--" comment is skipped, even
-- one that ends with a semicolon like this;

-- Current state of a lead: one row per applied event, collapsed by version. Read it through
-- argMax(..., version) or FINAL, never with a plain count().
CREATE TABLE IF NOT EXISTS example_leads
(
    tenant     String,
    lead_id    String,
    status     String,
    owner      String,
    source     String,
    version    UInt64,
    event_id   String,
    updated_at DateTime,
    deleted    UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(updated_at)
ORDER BY (tenant, lead_id);

-- Status history, one row per transition (deduplicated by event_id on read).
CREATE TABLE IF NOT EXISTS example_lead_status_changes
(
    tenant      String,
    lead_id     String,
    from_status String,
    to_status   String,
    event_id    String,
    changed_at  DateTime,
    day         Date DEFAULT toDate(changed_at)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, day, lead_id, event_id);

-- A few rows so the example query has something to read; the redelivered event e2 must not
-- count twice.
INSERT INTO example_leads (tenant, lead_id, status, owner, source, version, event_id, updated_at)
VALUES
    ('t1', 'l1', 'new', 'ann', 'web',   1, 'e1', '2026-01-01 09:00:00'),
    ('t1', 'l1', 'mql', 'ann', 'web',   2, 'e2', '2026-01-02 09:00:00'),
    ('t1', 'l1', 'mql', 'ann', 'web',   2, 'e2', '2026-01-02 09:00:00'),
    ('t1', 'l2', 'new', 'bob', 'event', 1, 'e3', '2026-01-03 09:00:00'),
    ('t2', 'l3', 'new', 'cy',  'web',   1, 'e4', '2026-01-03 09:00:00');
