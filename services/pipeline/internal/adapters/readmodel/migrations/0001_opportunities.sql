-- Pipeline read model: the current state of every opportunity.
--
-- One row per (tenant, id), keyed internally by pk (a rowid alias the tag set points at). The
-- columns are what ListOpportunities filters and sorts on and what the current forecast sums;
-- doc is the whole domain opportunity as JSON, what Get and List return. Every index leads with
-- tenant: every query is tenant-scoped and a tenant's rows are one contiguous range.
--
-- Amounts are stored exactly in the wire form of crm.common.v1.Money: whole units plus nano
-- units of the same sign (the domain admits any amount whose units fit 64 bits, so micro-units
-- in one INTEGER would not hold them all). Dates are 'YYYY-MM-DD' text, which sorts as dates;
-- '' is "no date". Times are unix nanoseconds, UTC.
CREATE TABLE opportunities (
    pk                  INTEGER PRIMARY KEY,
    tenant              TEXT    NOT NULL,
    id                  TEXT    NOT NULL,
    pipeline_id         TEXT    NOT NULL,
    stage_id            TEXT    NOT NULL,
    owner_id            TEXT    NOT NULL,
    account_id          TEXT    NOT NULL,
    primary_campaign_id TEXT    NOT NULL,
    status              INTEGER NOT NULL, -- opportunity.Status: 1 open, 2 won, 3 lost
    forecast_category   INTEGER NOT NULL, -- pipelinedef.Category
    expected_close_date TEXT    NOT NULL,
    closed_on           TEXT    NOT NULL, -- '' while open
    currency            TEXT    NOT NULL,
    amount_units        INTEGER NOT NULL,
    amount_nanos        INTEGER NOT NULL,
    probability         INTEGER NOT NULL,
    -- How forecast.Compute counts the opportunity: on fc_day (the expected close date while
    -- open, the close day when won; NULL when lost, which is not counted), in month fc_month
    -- ('YYYY-MM'), in fc_category (CLOSED when won), with weight amount x probability / 100
    -- (the amount when won).
    fc_day              TEXT,
    fc_month            TEXT,
    fc_category         INTEGER,
    weighted_units      INTEGER NOT NULL,
    weighted_nanos      INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    version             INTEGER NOT NULL, -- aggregate version the row reflects
    seq                 INTEGER NOT NULL, -- stream sequence of the last applied event
    -- The opportunity's open row in opportunity_history (valid_to = max), so Apply can close it.
    hist_version        INTEGER NOT NULL,
    hist_from           INTEGER NOT NULL,
    tags                TEXT    NOT NULL, -- the tag set, US (0x1f) separated; opportunity_tags is the index
    doc                 BLOB    NOT NULL  -- opportunity.Opportunity as JSON
);

CREATE UNIQUE INDEX opportunities_by_id ON opportunities (tenant, id);

-- One index per sort order with id as the tiebreak, so a keyset cursor (key, id) is one range
-- seek; status and owner trail the key so the two commonest filters are checked in the index
-- entry before the row is read.
CREATE INDEX opportunities_by_created ON opportunities (tenant, created_at, id, status, owner_id);
CREATE INDEX opportunities_by_updated ON opportunities (tenant, updated_at, id, status, owner_id);
CREATE INDEX opportunities_by_close   ON opportunities (tenant, expected_close_date, id, status, owner_id);
CREATE INDEX opportunities_by_amount  ON opportunities (tenant, currency, amount_units, amount_nanos, id, status, owner_id);

-- "My open deals by close date" and "this pipeline's stage" are exact ranges; accounts and
-- campaigns are too selective to find by walking a sort index.
CREATE INDEX opportunities_by_owner    ON opportunities (tenant, owner_id, status, expected_close_date, id);
CREATE INDEX opportunities_by_pipeline ON opportunities (tenant, pipeline_id, stage_id, expected_close_date, id);
CREATE INDEX opportunities_by_account  ON opportunities (tenant, account_id, created_at, id);
CREATE INDEX opportunities_by_campaign ON opportunities (tenant, primary_campaign_id, created_at, id);

-- The current forecast reads only this index (it covers every column the query touches): the
-- months of a close-date range are one range scan, and grouping by (month, currency, category,
-- status[, owner]) follows the index order, so SQLite aggregates while it scans and never
-- sorts. Quarters are months added up in Go.
CREATE INDEX opportunities_forecast ON opportunities (tenant, fc_month, currency, fc_category, status, owner_id,
    fc_day, pipeline_id, amount_units, amount_nanos, weighted_units, weighted_nanos) WHERE fc_month IS NOT NULL;

-- The tag set, one row per (tenant, tag, opportunity): a tag filter is an index probe.
CREATE TABLE opportunity_tags (
    tenant TEXT    NOT NULL,
    tag    TEXT    NOT NULL,
    opp_pk INTEGER NOT NULL,
    PRIMARY KEY (tenant, tag, opp_pk)
) WITHOUT ROWID;
