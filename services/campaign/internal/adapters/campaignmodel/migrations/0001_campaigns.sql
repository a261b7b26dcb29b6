-- Campaigns: the filter columns of ListCampaigns, and the whole campaign as
-- crm.campaign.v1.Campaign bytes (body).
CREATE TABLE campaigns (
    tenant      TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    status      INTEGER NOT NULL,
    channel     INTEGER NOT NULL,
    owner_id    TEXT    NOT NULL,
    parent_id   TEXT    NOT NULL,
    start_date  TEXT    NOT NULL,
    end_date    TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    body        BLOB    NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

-- Members: one row per member with its current state; counts per status are computed by
-- query (GROUP BY), never kept as counters a redelivery could inflate.
CREATE TABLE members (
    tenant             TEXT    NOT NULL,
    id                 TEXT    NOT NULL,
    campaign_id        TEXT    NOT NULL,
    version            INTEGER NOT NULL,
    type               INTEGER NOT NULL,
    person_id          TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    kind               INTEGER NOT NULL,
    responded          INTEGER NOT NULL,
    unsubscribed       INTEGER NOT NULL,
    added_at           INTEGER NOT NULL,
    first_responded_at INTEGER NOT NULL,
    last_response_at   INTEGER NOT NULL,
    added_by           TEXT    NOT NULL,
    channel            INTEGER NOT NULL,
    seq                INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

CREATE INDEX members_by_campaign ON members (tenant, campaign_id, status, id);
CREATE INDEX members_by_person ON members (tenant, type, person_id);

-- Touches: every membership (status '') and response of a person, keyed by the stream
-- sequence of its event so a redelivered event is stored once.
CREATE TABLE touches (
    tenant      TEXT    NOT NULL,
    type        INTEGER NOT NULL,
    person_id   TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    campaign_id TEXT    NOT NULL,
    channel     INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    kind        INTEGER NOT NULL,
    responded   INTEGER NOT NULL,
    PRIMARY KEY (tenant, type, person_id, seq)
) WITHOUT ROWID;
