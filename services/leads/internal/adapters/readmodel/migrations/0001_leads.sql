-- Lead read model, schema version 1.
--
-- leads holds one row per lead, keyed internally by pk (a rowid alias, so the
-- FTS index can point at it) and externally by (tenant, id). Every secondary
-- index leads with tenant: every query is tenant-scoped, and a tenant's rows
-- then form one contiguous index range.
CREATE TABLE leads (
    pk               INTEGER PRIMARY KEY,
    tenant           TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    first_name       TEXT    NOT NULL DEFAULT '',
    last_name        TEXT    NOT NULL DEFAULT '',
    last_name_key    TEXT    NOT NULL DEFAULT '', -- lower-cased last name, the sort key
    email            TEXT    NOT NULL DEFAULT '',
    phone            TEXT    NOT NULL DEFAULT '',
    company          TEXT    NOT NULL DEFAULT '',
    job_title        TEXT    NOT NULL DEFAULT '',
    country          TEXT    NOT NULL DEFAULT '',
    region           TEXT    NOT NULL DEFAULT '',
    city             TEXT    NOT NULL DEFAULT '',
    industry         TEXT    NOT NULL DEFAULT '',
    source           TEXT    NOT NULL DEFAULT '',
    campaign_id      TEXT    NOT NULL DEFAULT '',
    owner            TEXT    NOT NULL DEFAULT '',
    territory        TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL DEFAULT '',
    temperature      TEXT    NOT NULL DEFAULT '',
    fit_score        INTEGER NOT NULL DEFAULT 0,
    engagement_score INTEGER NOT NULL DEFAULT 0,
    total_score      INTEGER NOT NULL DEFAULT 0,
    tags             TEXT    NOT NULL DEFAULT '', -- display copy, US (0x1f) separated; lead_tags is the index
    created_at       INTEGER NOT NULL,            -- unix nanoseconds, UTC
    updated_at       INTEGER NOT NULL,            -- unix nanoseconds, UTC
    version          INTEGER NOT NULL,
    seq              INTEGER NOT NULL,            -- stream sequence of the last applied event
    doc              BLOB
);

CREATE UNIQUE INDEX leads_by_tenant_id ON leads (tenant, id);

-- One index per sort order, with id as the tiebreak so a keyset cursor
-- (sort key, id) is a single index seek. status and owner trail the key: the
-- two most used filters are then checked in the index entry, before SQLite
-- reads the table row, so a filtered walk in sort order stays cheap.
CREATE INDEX leads_by_created ON leads (tenant, created_at, id, status, owner);
CREATE INDEX leads_by_updated ON leads (tenant, updated_at, id, status, owner);
CREATE INDEX leads_by_score   ON leads (tenant, total_score, id, status, owner);
CREATE INDEX leads_by_name    ON leads (tenant, last_name_key, id, status, owner);

-- "My leads in status X, newest first": an exact range for the commonest
-- work-queue query, and a narrow range for owner-only filters.
CREATE INDEX leads_by_owner_status ON leads (tenant, owner, status, created_at, id);

-- Campaign filters are highly selective (a campaign owns a small share of the
-- leads), too selective to find by walking a sort index.
CREATE INDEX leads_by_campaign ON leads (tenant, campaign_id, created_at, id);

-- Tags are a set per lead; one row per (tenant, tag, lead) makes a tag filter
-- an index probe.
CREATE TABLE lead_tags (
    tenant  TEXT    NOT NULL,
    tag     TEXT    NOT NULL,
    lead_pk INTEGER NOT NULL,
    PRIMARY KEY (tenant, tag, lead_pk)
) WITHOUT ROWID;

-- Search index. One document per lead (rowid = leads.pk) whose terms are
-- built in Go (see searchterms.go): every word of first name, last name,
-- email and company becomes one token "<tenant hash><column letter><word>",
-- lower-cased and folded. So a tenant's words in one column form their own
-- doclists: tenant scoping and "which column matched" cost nothing at query
-- time, and results stream in rowid order, cut at the page size, instead of
-- ranking every match (bm25 would read a docsize row per match: ~100 ms for a
-- common prefix at 1M leads).
--   contentless + contentless_delete: text lives in leads; delete by rowid.
--   detail=none: queries are single tokens; no positions to store.
--   tokenize=ascii: Go already split and folded the words; ascii keeps each
--     token whole (non-ASCII bytes are token characters).
--   prefix: the tenant hash is 8 characters and the column letter 1, so
--     10..13 index word prefixes of 1..4 characters, and a short type-ahead
--     prefix is one doclist instead of a merge of every term below it.
CREATE VIRTUAL TABLE leads_fts USING fts5 (
    terms,
    content = '',
    contentless_delete = 1,
    detail = 'none',
    prefix = '10 11 12 13',
    tokenize = 'ascii'
);

-- The projection checkpoint: stream -> last applied stream sequence, written
-- in the same transaction as the rows it describes.
CREATE TABLE checkpoints (
    stream TEXT    PRIMARY KEY,
    seq    INTEGER NOT NULL
) WITHOUT ROWID;
