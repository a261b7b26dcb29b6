-- Schema version 2: what the row-level rules (libs/platform/authz.Scope) need to filter
-- activities, tasks and timelines in SQL.
--
-- record_scope holds the owner and territory of every lead, account and contact, as the
-- projector folds them from the records' own events (created, assigned, territory changed,
-- owner_id/territory_id updated); seq is the stream sequence of the last event that set them,
-- so a replayed older event never moves them back. An activity is in a restricted caller's
-- scope when the caller logged it or one of the records it concerns is (EXISTS over
-- activity_records, hence the index by activity); a task when the caller created it, is its
-- assignee or its record is in scope (hence tasks.created_by). timeline.item_id names the
-- activity or task of an entry (or the lead a conversion entry comes from), so an
-- opportunity's timeline can keep only the entries whose item the caller may see.
--
-- None of this can be derived from the rows already stored, so the model is emptied and its
-- checkpoint removed in this same transaction: the projector then rebuilds it from the start
-- of CRM_LEADS (an ordered consumer resumes after the stored checkpoint), and a crash before
-- the commit leaves the version 1 file to migrate again.
CREATE TABLE record_scope (
    tenant      TEXT    NOT NULL,
    record_type INTEGER NOT NULL,
    record_id   TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    territory   TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (tenant, record_type, record_id)
) WITHOUT ROWID;

CREATE INDEX activity_records_by_activity ON activity_records (tenant, activity_id, record_type, record_id);

ALTER TABLE tasks ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
ALTER TABLE timeline ADD COLUMN item_id TEXT NOT NULL DEFAULT '';

DELETE FROM activities;
DELETE FROM activity_records;
DELETE FROM tasks;
DELETE FROM timeline;
DELETE FROM checkpoints;
