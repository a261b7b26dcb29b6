-- One row per aggregate: its folded state (JSON) at a position of the log. A cache of the
-- event log, never the truth; deleting the file only makes the next loads read the stream.
CREATE TABLE snapshots (
    key     TEXT    PRIMARY KEY,     -- tenant/type/id
    schema  TEXT    NOT NULL,        -- the state's encoding (eventstore.Snapshot.Schema)
    version INTEGER NOT NULL,        -- aggregate version (number of events folded)
    seq     INTEGER NOT NULL,        -- stream sequence of the last event folded
    state   BLOB    NOT NULL
) WITHOUT ROWID;
