-- Activities, one row each; data is the crm.leads.v1.Activity as logged (protobuf).
CREATE TABLE activities (
    tenant      TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    kind        INTEGER NOT NULL,
    logged_by   TEXT    NOT NULL,
    occurred_at INTEGER NOT NULL, -- unix nanoseconds
    seq         INTEGER NOT NULL,
    data        BLOB    NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE INDEX activities_by_time ON activities (tenant, occurred_at DESC, id DESC);

-- One row per record an activity concerns, so "activities of this record" is a range scan.
CREATE TABLE activity_records (
    tenant      TEXT    NOT NULL,
    record_type INTEGER NOT NULL,
    record_id   TEXT    NOT NULL,
    occurred_at INTEGER NOT NULL,
    activity_id TEXT    NOT NULL,
    PRIMARY KEY (tenant, record_type, record_id, occurred_at, activity_id)
) WITHOUT ROWID;

-- Tasks' current state; data is the crm.leads.v1.Task (protobuf). due_key is due_at in unix
-- nanoseconds, or the largest integer for "no due date", so tasks without one sort last.
CREATE TABLE tasks (
    tenant      TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    assignee_id TEXT    NOT NULL,
    status      INTEGER NOT NULL,
    due_key     INTEGER NOT NULL,
    record_type INTEGER NOT NULL,
    record_id   TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    data        BLOB    NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
-- The overdue query: one assignee's OPEN tasks due before now, by due date.
CREATE INDEX tasks_by_assignee ON tasks (tenant, assignee_id, status, due_key, id);
CREATE INDEX tasks_by_due ON tasks (tenant, due_key, id);
CREATE INDEX tasks_by_record ON tasks (tenant, record_type, record_id, due_key, id);

-- Timeline entries: one per (record, event). item_kind 1 = activity, 2 = task, 0 = none; item
-- is the activity or task as it was after the event (protobuf).
CREATE TABLE timeline (
    tenant      TEXT    NOT NULL,
    record_type INTEGER NOT NULL,
    record_id   TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    event_id    TEXT    NOT NULL,
    event_type  TEXT    NOT NULL,
    summary     TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    item_kind   INTEGER NOT NULL,
    item        BLOB,
    PRIMARY KEY (tenant, record_type, record_id, at, seq)
) WITHOUT ROWID;
