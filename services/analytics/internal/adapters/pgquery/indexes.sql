-- indexes.sql — the secondary indexes of the PostgreSQL tables (schema.sql), built after the
-- load, then ANALYZE. Each serves a range or a join of the metric queries; every table's primary
-- key (tenant first, as ClickHouse's sorting keys) serves the per-tenant scans and the joins on
-- an entity id.
-- funnel: the cohort by creation time; campaign_performance: leads created in the range.
CREATE INDEX leads_tenant_created ON leads (tenant, created_at);
-- sales_velocity: closed in the range; campaign_performance: created in the range.
CREATE INDEX opportunities_tenant_closed ON opportunities (tenant, closed_at);
CREATE INDEX opportunities_tenant_created ON opportunities (tenant, created_at);
-- forecast: open ones by expected close date.
CREATE INDEX opportunities_tenant_close_date ON opportunities (tenant, expected_close_date);
-- stage_metrics: entries by time.
CREATE INDEX stage_transitions_tenant_at ON stage_transitions (tenant, at);
-- campaign_performance: a person's touches (members and responses), responses in the range,
-- the contact an opportunity's lead converted into.
CREATE INDEX members_tenant_person ON members (tenant, member_type, person_id);
CREATE INDEX responses_tenant_person ON responses (tenant, member_type, person_id);
CREATE INDEX responses_tenant_at ON responses (tenant, at);
CREATE INDEX conversions_tenant_opportunity ON conversions (tenant, opportunity_id);
ANALYZE;
