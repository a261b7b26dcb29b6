-- Pipelines: the folded pipelinedef.State per (tenant, id) as JSON. Few per tenant.
CREATE TABLE pipelines (
    tenant   TEXT    NOT NULL,
    id       TEXT    NOT NULL,
    archived INTEGER NOT NULL, -- 0 or 1
    version  INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    doc      BLOB    NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

-- Contracts: current state per (tenant, id), the columns ListContracts filters and sorts on,
-- and contract.Contract as JSON. A tenant has few contracts next to its opportunities, so
-- the secondary indexes are the selective filters; sorts of a filtered set are cheap.
CREATE TABLE contracts (
    pk             INTEGER PRIMARY KEY,
    tenant         TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    status         INTEGER NOT NULL, -- contract.Status
    account_id     TEXT    NOT NULL,
    owner_id       TEXT    NOT NULL,
    opportunity_id TEXT    NOT NULL,
    renewal_date   TEXT    NOT NULL, -- 'YYYY-MM-DD', '' when none
    end_date       TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    seq            INTEGER NOT NULL,
    doc            BLOB    NOT NULL
);

CREATE UNIQUE INDEX contracts_by_id ON contracts (tenant, id);
CREATE INDEX contracts_by_created     ON contracts (tenant, created_at, id, status);
CREATE INDEX contracts_by_renewal     ON contracts (tenant, renewal_date, id, status);
CREATE INDEX contracts_by_end         ON contracts (tenant, end_date, id, status);
CREATE INDEX contracts_by_account     ON contracts (tenant, account_id, created_at, id);
CREATE INDEX contracts_by_owner       ON contracts (tenant, owner_id, created_at, id);
CREATE INDEX contracts_by_opportunity ON contracts (tenant, opportunity_id, created_at, id);
