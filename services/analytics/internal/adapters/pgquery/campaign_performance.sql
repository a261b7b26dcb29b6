-- campaign_performance.sql — GetCampaignPerformance in PostgreSQL: the metric of
-- chquery/campaign_performance.sql (its comment has the definition), over the tables of
-- schema.sql (current-state tables: one row per entity; fact tables: one row per event).
--
-- One row per campaign of the tenant (those in campaign_ids when not empty): members added
-- before `to`; distinct people with a response of each kind (and responded) in [from, to);
-- cost in the currency with a cost date in [from_date, to_date); leads (not merged away) and
-- opportunities created in [from, to) with this source campaign; influence: the opportunities
-- in the currency created in [from, to) whose people (the lead, and the contact it converted
-- into) touched the campaign (joined it, or responded in it) before the opportunity's
-- creation, with first and last touch (earliest / latest touch, ties to the lowest / highest
-- campaign id). Ratios are in double precision, 0 when the divisor is 0.
WITH camp AS (
    SELECT campaign_id, name, channel
    FROM campaigns
    WHERE tenant = @tenant::text
        AND (cardinality(@campaign_ids::text[]) = 0 OR campaign_id = ANY (@campaign_ids::text[]))
),
mem AS (
    SELECT campaign_id, count(*) AS members
    FROM members
    WHERE tenant = @tenant::text AND added_at < @to::timestamptz
    GROUP BY campaign_id
),
-- Distinct people per campaign: one row per (campaign, person) saying which kinds they had.
person_resp AS (
    SELECT
        campaign_id,
        bool_or(kind = 'sent') AS sent,
        bool_or(kind = 'opened') AS opened,
        bool_or(kind = 'clicked') AS clicked,
        bool_or(responded = 1) AS responded,
        bool_or(kind = 'converted') AS converted
    FROM responses
    WHERE tenant = @tenant::text AND at >= @from::timestamptz AND at < @to::timestamptz
    GROUP BY campaign_id, member_type, person_id
),
resp AS (
    SELECT
        campaign_id,
        count(*) FILTER (WHERE sent) AS sent,
        count(*) FILTER (WHERE opened) AS opened,
        count(*) FILTER (WHERE clicked) AS clicked,
        count(*) FILTER (WHERE responded) AS responded,
        count(*) FILTER (WHERE converted) AS converted
    FROM person_resp
    GROUP BY campaign_id
),
cost AS (
    SELECT campaign_id, sum(amount_micros)::bigint AS cost_micros
    FROM costs
    WHERE tenant = @tenant::text AND currency = @currency::text
        AND date >= @from_date::date AND date < @to_date::date
    GROUP BY campaign_id
),
sourced AS (
    SELECT campaign_id, sum(is_lead) AS leads, sum(is_opportunity) AS opportunities
    FROM (
        SELECT campaign_id, 1 AS is_lead, 0 AS is_opportunity
        FROM leads
        WHERE tenant = @tenant::text AND campaign_id <> '' AND merged_into_id = ''
            AND created_at >= @from::timestamptz AND created_at < @to::timestamptz
        UNION ALL
        SELECT campaign_id, 0, 1
        FROM opportunities
        WHERE tenant = @tenant::text AND campaign_id <> ''
            AND created_at >= @from::timestamptz AND created_at < @to::timestamptz
    ) AS s
    GROUP BY campaign_id
),
opps AS (
    SELECT o.opportunity_id, o.amount_micros, o.status, o.created_at, o.lead_id,
        coalesce(c.contact_id, '') AS contact_id
    FROM opportunities AS o
    LEFT JOIN (
        -- ClickHouse takes any(contact_id) of an opportunity's conversions: there is one.
        SELECT opportunity_id, min(contact_id) AS contact_id
        FROM conversions
        WHERE tenant = @tenant::text AND opportunity_id <> ''
        GROUP BY opportunity_id
    ) AS c USING (opportunity_id)
    WHERE o.tenant = @tenant::text AND o.currency = @currency::text
        AND o.created_at >= @from::timestamptz AND o.created_at < @to::timestamptz
),
people AS (
    SELECT opportunity_id, amount_micros, status, created_at, 'lead' AS member_type, lead_id AS person_id
    FROM opps WHERE lead_id <> ''
    UNION ALL
    SELECT opportunity_id, amount_micros, status, created_at, 'contact', contact_id
    FROM opps WHERE contact_id <> ''
),
touches AS (
    SELECT campaign_id, member_type, person_id, added_at AS t
    FROM members
    WHERE tenant = @tenant::text
    UNION ALL
    SELECT campaign_id, member_type, person_id, at
    FROM responses
    WHERE tenant = @tenant::text
),
influence AS (
    SELECT p.opportunity_id, p.amount_micros, p.status, t.campaign_id AS touch_campaign, t.t
    FROM people AS p
    JOIN touches AS t USING (member_type, person_id)
    WHERE t.t < p.created_at
),
per_opp AS (
    SELECT
        opportunity_id,
        min(amount_micros) AS amount_micros,
        min(status) AS status,
        (array_agg(touch_campaign ORDER BY t, touch_campaign COLLATE "C"))[1] AS first_campaign,
        (array_agg(touch_campaign ORDER BY t DESC, touch_campaign COLLATE "C" DESC))[1] AS last_campaign
    FROM influence
    GROUP BY opportunity_id
),
opp_campaigns AS (
    SELECT DISTINCT opportunity_id, touch_campaign AS campaign_id FROM influence
),
infl AS (
    SELECT
        oc.campaign_id,
        sum(po.amount_micros)::bigint AS influenced_pipeline_micros,
        coalesce(sum(po.amount_micros) FILTER (WHERE po.status = 'won'), 0)::bigint AS influenced_won_micros,
        coalesce(sum(po.amount_micros) FILTER (WHERE po.status = 'won' AND oc.campaign_id = po.first_campaign), 0)::bigint AS first_touch_won_micros,
        coalesce(sum(po.amount_micros) FILTER (WHERE po.status = 'won' AND oc.campaign_id = po.last_campaign), 0)::bigint AS last_touch_won_micros
    FROM opp_campaigns AS oc
    JOIN per_opp AS po USING (opportunity_id)
    GROUP BY oc.campaign_id
),
joined AS (
    SELECT
        camp.campaign_id,
        camp.name,
        camp.channel,
        coalesce(mem.members, 0) AS members,
        coalesce(resp.sent, 0) AS sent,
        coalesce(resp.opened, 0) AS opened,
        coalesce(resp.clicked, 0) AS clicked,
        coalesce(resp.responded, 0) AS responded,
        coalesce(resp.converted, 0) AS converted,
        coalesce(cost.cost_micros, 0) AS cost_micros,
        coalesce(sourced.leads, 0)::bigint AS leads,
        coalesce(sourced.opportunities, 0)::bigint AS opportunities,
        coalesce(infl.influenced_pipeline_micros, 0) AS influenced_pipeline_micros,
        coalesce(infl.influenced_won_micros, 0) AS influenced_won_micros,
        coalesce(infl.first_touch_won_micros, 0) AS first_touch_won_micros,
        coalesce(infl.last_touch_won_micros, 0) AS last_touch_won_micros
    FROM camp
    LEFT JOIN mem USING (campaign_id)
    LEFT JOIN resp USING (campaign_id)
    LEFT JOIN cost USING (campaign_id)
    LEFT JOIN sourced USING (campaign_id)
    LEFT JOIN infl USING (campaign_id)
)
SELECT
    campaign_id,
    name,
    channel,
    members,
    sent,
    opened,
    clicked,
    responded,
    converted,
    CASE WHEN sent > 0 THEN opened::double precision / sent ELSE 0 END AS open_rate,
    CASE WHEN sent > 0 THEN clicked::double precision / sent ELSE 0 END AS click_rate,
    CASE WHEN members > 0 THEN responded::double precision / members ELSE 0 END AS response_rate,
    CASE WHEN members > 0 THEN converted::double precision / members ELSE 0 END AS conversion_rate,
    cost_micros,
    leads,
    CASE WHEN leads > 0 THEN cost_micros::double precision / leads ELSE 0 END AS cost_per_lead_micros,
    opportunities,
    CASE WHEN opportunities > 0 THEN cost_micros::double precision / opportunities ELSE 0 END AS cost_per_opportunity_micros,
    influenced_pipeline_micros,
    influenced_won_micros,
    CASE WHEN cost_micros > 0 THEN (influenced_won_micros - cost_micros)::double precision / cost_micros ELSE 0 END AS roi,
    first_touch_won_micros,
    last_touch_won_micros
FROM joined
ORDER BY campaign_id COLLATE "C"
