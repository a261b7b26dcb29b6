-- The as-of table: the forecast-relevant fields of every opportunity over recorded time.
--
-- One row per version of an opportunity that changed a field the forecast reads (owner,
-- pipeline, stage, status, forecast category, currency or amount, probability, expected close
-- date, close day), valid over [valid_from, valid_to): valid_from is the recorded time (unix
-- nanoseconds) of the event that produced the version, valid_to the recorded time of the next
-- such version, 9223372036854775807 while the row is current. "The forecast as the log knew it
-- at T" sums the rows with valid_from <= T < valid_to.
--
-- Finding those rows without reading the whole table: every row is filed under the smallest
-- aligned power-of-two window of time that holds its interval (lvl = the window is 2^lvl ns,
-- bkt = valid_from >> lvl; current rows have lvl 64, bkt 0). A row at level l > 0 contains the
-- middle m of its window, so among the rows of the one window at level l that holds T, those
-- containing T are exactly the rows with valid_from <= T when T < m, and those with
-- valid_to > T when T >= m. The query reads one range of one index per level (65 seeks) and
-- no row it does not count. See the package doc for the cost.
--
-- The rows live in the primary key (the "from" side), and history_to is the "to" side; both
-- carry every column the forecast needs, so the query never touches another structure.
CREATE TABLE opportunity_history (
    tenant              TEXT    NOT NULL,
    lvl                 INTEGER NOT NULL,
    bkt                 INTEGER NOT NULL,
    valid_from          INTEGER NOT NULL,
    opportunity_id      TEXT    NOT NULL,
    version             INTEGER NOT NULL, -- the opportunity version that produced the row
    valid_to            INTEGER NOT NULL,
    owner_id            TEXT    NOT NULL,
    pipeline_id         TEXT    NOT NULL,
    stage_id            TEXT    NOT NULL,
    status              INTEGER NOT NULL,
    forecast_category   INTEGER NOT NULL,
    expected_close_date TEXT    NOT NULL,
    closed_on           TEXT    NOT NULL,
    currency            TEXT    NOT NULL,
    amount_units        INTEGER NOT NULL,
    amount_nanos        INTEGER NOT NULL,
    probability         INTEGER NOT NULL,
    fc_day              TEXT,             -- as in opportunities
    fc_month            TEXT,
    fc_category         INTEGER,
    weighted_units      INTEGER NOT NULL,
    weighted_nanos      INTEGER NOT NULL,
    PRIMARY KEY (tenant, lvl, bkt, valid_from, opportunity_id, version)
) WITHOUT ROWID;

-- A replayed batch finds its rows here and does not add them twice.
CREATE UNIQUE INDEX history_by_version ON opportunity_history (tenant, opportunity_id, version);

CREATE INDEX history_to ON opportunity_history (tenant, lvl, bkt, valid_to, valid_from, fc_month, fc_day,
    currency, fc_category, status, owner_id, pipeline_id, amount_units, amount_nanos, weighted_units, weighted_nanos)
    WHERE fc_month IS NOT NULL;
