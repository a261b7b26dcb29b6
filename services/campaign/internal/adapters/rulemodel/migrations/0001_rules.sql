-- Rules (current state, deleted ones kept with deleted = 1 so a redelivered old event cannot
-- bring them back) and the run log.
CREATE TABLE rules (
    tenant     TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    event_type TEXT    NOT NULL,
    enabled    INTEGER NOT NULL,
    deleted    INTEGER NOT NULL,
    body       TEXT    NOT NULL, -- the rule as JSON (rule.Rule)
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

CREATE INDEX rules_trigger ON rules (tenant, event_type) WHERE deleted = 0 AND enabled = 1;

CREATE TABLE rule_runs (
    tenant  TEXT    NOT NULL,
    run_id  TEXT    NOT NULL,
    rule_id TEXT    NOT NULL,
    seq     INTEGER NOT NULL, -- stream sequence of RuleRunRecorded: the log's order
    outcome INTEGER NOT NULL,
    body    TEXT    NOT NULL, -- the run as JSON (rule.Run)
    PRIMARY KEY (tenant, run_id)
) WITHOUT ROWID;

CREATE INDEX rule_runs_by_seq ON rule_runs (tenant, seq DESC);
CREATE INDEX rule_runs_by_rule ON rule_runs (tenant, rule_id, seq DESC);
