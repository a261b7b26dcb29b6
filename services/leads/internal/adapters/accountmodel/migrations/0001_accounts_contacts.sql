-- Accounts and contacts read model. Each row holds the filter and sort columns and the record as
-- JSON (doc); times are Unix nanoseconds (UTC); seq is the stream sequence of the row's latest
-- event and version its aggregate version (an older upsert never overwrites a newer row).
CREATE TABLE accounts (
    tenant       TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    name_key     TEXT    NOT NULL, -- lower-case name, the NAME sort key
    type         INTEGER NOT NULL,
    owner_id     TEXT    NOT NULL,
    territory_id TEXT    NOT NULL,
    industry     TEXT    NOT NULL, -- lower case
    country      TEXT    NOT NULL, -- billing country
    parent_id    TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    doc          TEXT    NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE INDEX accounts_created ON accounts (tenant, created_at, id);
CREATE INDEX accounts_updated ON accounts (tenant, updated_at, id);
CREATE INDEX accounts_name    ON accounts (tenant, name_key, id);
CREATE INDEX accounts_parent  ON accounts (tenant, parent_id, name_key, id);
CREATE INDEX accounts_owner   ON accounts (tenant, owner_id, created_at, id);

CREATE TABLE contacts (
    tenant     TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    last_key   TEXT    NOT NULL, -- lower-case last name then first name, the LAST_NAME sort key
    account_id TEXT    NOT NULL,
    owner_id   TEXT    NOT NULL,
    country    TEXT    NOT NULL, -- mailing country
    emailable  INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    doc        TEXT    NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE INDEX contacts_created ON contacts (tenant, created_at, id);
CREATE INDEX contacts_updated ON contacts (tenant, updated_at, id);
CREATE INDEX contacts_last    ON contacts (tenant, last_key, id);
CREATE INDEX contacts_account ON contacts (tenant, account_id, last_key, id);

-- Set-valued filters: tags of both kinds of record (kind 'a' account, 'c' contact) and contact
-- roles.
CREATE TABLE record_tags (
    tenant TEXT NOT NULL,
    kind   TEXT NOT NULL,
    tag    TEXT NOT NULL,
    id     TEXT NOT NULL,
    PRIMARY KEY (tenant, kind, tag, id)
) WITHOUT ROWID;
CREATE INDEX record_tags_by_id ON record_tags (tenant, kind, id);

CREATE TABLE contact_roles (
    tenant TEXT    NOT NULL,
    role   INTEGER NOT NULL,
    id     TEXT    NOT NULL,
    PRIMARY KEY (tenant, role, id)
) WITHOUT ROWID;
CREATE INDEX contact_roles_by_id ON contact_roles (tenant, id);

-- Search words: lower-case words of account names and domains, of contact names, emails and
-- job titles. A prefix search is a range scan of the primary key.
CREATE TABLE search_terms (
    tenant TEXT NOT NULL,
    kind   TEXT NOT NULL,
    term   TEXT NOT NULL,
    id     TEXT NOT NULL,
    PRIMARY KEY (tenant, kind, term, id)
) WITHOUT ROWID;
CREATE INDEX search_terms_by_id ON search_terms (tenant, kind, id);
