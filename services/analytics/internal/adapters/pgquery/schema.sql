-- schema.sql — the analytics tables in PostgreSQL, for comparing the metric queries with
-- ClickHouse's (docs/benchmarks.md, "PostgreSQL comparison"). What a CRM keeping its data in
-- PostgreSQL would have: one row per entity in its current state (leads, opportunities,
-- campaigns, members, contacts), with a primary key on the entity's key, and one row per fact
-- (stage_transitions, responses, costs, conversions). Columns, names and conventions are those
-- of the ClickHouse tables (docs/analytics.md "Tables"): DateTime is timestamptz (whole seconds,
-- 1970-01-01 00:00:00 UTC = not set, exactly as in ClickHouse, so the queries keep the same
-- tests), Date is date, Int64/UInt64 bigint, UInt8 smallint, Float64 double precision.
--
-- The rows are loaded from ClickHouse's deduplicated state (SELECT … FINAL), so every key holds
-- one row and the primary keys hold. Secondary indexes are in indexes.sql, built after the
-- load (building them once is faster than maintaining them row by row during COPY).
-- lead_transitions and events are not here: no metric of the five reads them (the funnel reads
-- the step times folded into leads).
CREATE TABLE leads
(
    tenant text NOT NULL,
    lead_id text NOT NULL,
    seq bigint NOT NULL,
    status text NOT NULL,
    source text NOT NULL,
    campaign_id text NOT NULL,
    owner_id text NOT NULL,
    territory_id text NOT NULL,
    country text NOT NULL,
    industry text NOT NULL,
    total_score bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    converted_at timestamptz NOT NULL,
    mql_at timestamptz NOT NULL,
    sal_at timestamptz NOT NULL,
    sql_at timestamptz NOT NULL,
    won_at timestamptz NOT NULL,
    account_id text NOT NULL,
    contact_id text NOT NULL,
    opportunity_id text NOT NULL,
    merged_into_id text NOT NULL,
    aggregate_version bigint NOT NULL,
    PRIMARY KEY (tenant, lead_id)
);

CREATE TABLE opportunities
(
    tenant text NOT NULL,
    opportunity_id text NOT NULL,
    seq bigint NOT NULL,
    name text NOT NULL,
    pipeline_id text NOT NULL,
    stage_id text NOT NULL,
    stage_name text NOT NULL,
    status text NOT NULL,
    forecast_category text NOT NULL,
    probability double precision NOT NULL,
    amount_micros bigint NOT NULL,
    currency text NOT NULL,
    owner_id text NOT NULL,
    account_id text NOT NULL,
    lead_id text NOT NULL,
    campaign_id text NOT NULL,
    source text NOT NULL,
    expected_close_date date NOT NULL,
    created_at timestamptz NOT NULL,
    closed_at timestamptz NOT NULL,
    aggregate_version bigint NOT NULL,
    PRIMARY KEY (tenant, opportunity_id)
);

CREATE TABLE stage_transitions
(
    tenant text NOT NULL,
    opportunity_id text NOT NULL,
    seq bigint NOT NULL,
    event_id text NOT NULL,
    at timestamptz NOT NULL,
    pipeline_id text NOT NULL,
    from_stage_id text NOT NULL,
    from_stage_name text NOT NULL,
    to_stage_id text NOT NULL,
    to_stage_name text NOT NULL,
    outcome text NOT NULL,
    time_in_stage_s bigint NOT NULL,
    amount_micros bigint NOT NULL,
    currency text NOT NULL,
    probability double precision NOT NULL,
    owner_id text NOT NULL,
    source text NOT NULL,
    campaign_id text NOT NULL,
    opportunity_created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant, opportunity_id, seq)
);

CREATE TABLE campaigns
(
    tenant text NOT NULL,
    campaign_id text NOT NULL,
    seq bigint NOT NULL,
    name text NOT NULL,
    channel text NOT NULL,
    status text NOT NULL,
    parent_campaign_id text NOT NULL,
    owner_id text NOT NULL,
    start_date date NOT NULL,
    end_date date NOT NULL,
    budget_micros bigint NOT NULL,
    actual_cost_micros bigint NOT NULL,
    currency text NOT NULL,
    created_at timestamptz NOT NULL,
    aggregate_version bigint NOT NULL,
    PRIMARY KEY (tenant, campaign_id)
);

CREATE TABLE members
(
    tenant text NOT NULL,
    campaign_id text NOT NULL,
    member_type text NOT NULL,
    person_id text NOT NULL,
    member_id text NOT NULL,
    seq bigint NOT NULL,
    added_at timestamptz NOT NULL,
    status text NOT NULL,
    responded smallint NOT NULL,
    unsubscribed smallint NOT NULL,
    first_responded_at timestamptz NOT NULL,
    last_response_at timestamptz NOT NULL,
    aggregate_version bigint NOT NULL,
    PRIMARY KEY (tenant, campaign_id, member_type, person_id)
);

CREATE TABLE responses
(
    tenant text NOT NULL,
    campaign_id text NOT NULL,
    seq bigint NOT NULL,
    event_id text NOT NULL,
    member_type text NOT NULL,
    person_id text NOT NULL,
    at timestamptz NOT NULL,
    status text NOT NULL,
    kind text NOT NULL,
    responded smallint NOT NULL,
    first_response smallint NOT NULL,
    channel text NOT NULL,
    PRIMARY KEY (tenant, campaign_id, seq)
);

CREATE TABLE costs
(
    tenant text NOT NULL,
    campaign_id text NOT NULL,
    seq bigint NOT NULL,
    event_id text NOT NULL,
    date date NOT NULL,
    at timestamptz NOT NULL,
    amount_micros bigint NOT NULL,
    currency text NOT NULL,
    channel text NOT NULL,
    PRIMARY KEY (tenant, campaign_id, seq)
);

CREATE TABLE conversions
(
    tenant text NOT NULL,
    lead_id text NOT NULL,
    seq bigint NOT NULL,
    at timestamptz NOT NULL,
    account_id text NOT NULL,
    contact_id text NOT NULL,
    opportunity_id text NOT NULL,
    source text NOT NULL,
    campaign_id text NOT NULL,
    owner_id text NOT NULL,
    PRIMARY KEY (tenant, lead_id)
);

CREATE TABLE contacts
(
    tenant text NOT NULL,
    contact_id text NOT NULL,
    seq bigint NOT NULL,
    account_id text NOT NULL,
    source_lead_id text NOT NULL,
    created_at timestamptz NOT NULL,
    aggregate_version bigint NOT NULL,
    PRIMARY KEY (tenant, contact_id)
);

-- quantile_exact is ClickHouse's quantileExact(q) over values sorted ascending: the element at
-- 0-based position ⌊q·n⌋ (the last one for q ≥ 1), 0 when there are none. ⌊q·n⌋ is computed in
-- double precision as ClickHouse does (level · size, truncated), so even a product such as
-- 0.9 · n that is not exact in binary picks the same element. percentile_disc would not:
-- it takes position ⌈q·n⌉ (1-based), one lower than ClickHouse's whenever q·n is whole.
CREATE FUNCTION quantile_exact(sorted bigint[], q double precision) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(sorted[CASE WHEN q < 1 THEN floor(q * coalesce(cardinality(sorted), 0))::int + 1
                            ELSE cardinality(sorted) END], 0);

-- epoch_s is a time as Unix seconds (ClickHouse's toInt64(toUInt32(t))). date_part, not
-- extract: double precision (exact for whole seconds) instead of numeric, several times cheaper
-- per row. STABLE because date_part(text, timestamptz) is: an IMMUTABLE wrapper around it would
-- not be inlined into the queries.
CREATE FUNCTION epoch_s(t timestamptz) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
RETURN date_part('epoch', t)::bigint;

-- utc_date is the UTC date of a time (ClickHouse's toDate(t, 'UTC')).
CREATE FUNCTION utc_date(t timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (t AT TIME ZONE 'UTC')::date;

-- period_start is the first day of d's period: day, week (Monday), month, quarter or year
-- (anything else: month), as the ClickHouse queries' multiIf of toMonday, toStartOfMonth, ….
CREATE FUNCTION period_start(period text, d date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE period
    WHEN 'day' THEN d
    WHEN 'week' THEN date_trunc('week', d::timestamp)::date
    WHEN 'quarter' THEN date_trunc('quarter', d::timestamp)::date
    WHEN 'year' THEN date_trunc('year', d::timestamp)::date
    ELSE date_trunc('month', d::timestamp)::date
END;
