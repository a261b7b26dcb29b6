-- campaign_performance.sql — GetCampaignPerformance: members, responses, cost, influence, ROI
-- and attribution, one row per campaign (all campaigns of the tenant when campaign_ids is
-- empty).
--
--   members       = members (current state of `members`, argMax by seq) added before `to`;
--   (leads and opportunities: their current state as FINAL gives it, most of it read from the
--   latest snapshots; funnel.sql explains)
--   sent, opened, clicked, converted = distinct members with a response of that kind at a
--                   time in [from, to) (`responses`; counting distinct people keeps replays out);
--   responded     = distinct members with a response that counts as responded in the range;
--   open_rate = opened / sent, click_rate = clicked / sent, response_rate = responded /
--                   members, conversion_rate = converted / members (0 when the divisor is 0);
--   cost_micros   = Σ `costs` (FINAL) in the currency, cost date in [from_date, to_date);
--   leads         = leads (current state, not merged away) created in [from, to) whose source
--                   campaign is this one; cost_per_lead = cost / leads;
--   opportunities = opportunities (current state) created in [from, to) whose campaign is this
--                   one; cost_per_opportunity = cost / opportunities;
--   influenced_pipeline / influenced_won = Σ amount of the opportunities (current state,
--                   created in [from, to), in the currency; influenced_won: only the won ones)
--                   whose people were members of the campaign before the opportunity's
--                   creation. An opportunity's people: its lead (opportunities.lead_id) and the
--                   contact that lead converted into (conversions.contact_id);
--   roi           = (influenced_won − cost) / cost, 0 without cost;
--   first_touch_won / last_touch_won = Σ amount of those won opportunities whose first / last
--                   campaign touch before the opportunity's creation was this campaign. A touch
--                   is a person joining a campaign (members.added_at) or responding in it
--                   (responses.at); ties on time go to the lowest / highest campaign id.
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
    if(sent > 0, opened / sent, 0) AS open_rate,
    if(sent > 0, clicked / sent, 0) AS click_rate,
    if(members > 0, responded / members, 0) AS response_rate,
    if(members > 0, converted / members, 0) AS conversion_rate,
    cost_micros,
    leads,
    if(leads > 0, cost_micros / leads, 0) AS cost_per_lead_micros,
    opportunities,
    if(opportunities > 0, cost_micros / opportunities, 0) AS cost_per_opportunity_micros,
    influenced_pipeline_micros,
    influenced_won_micros,
    if(cost_micros > 0, (influenced_won_micros - cost_micros) / cost_micros, 0) AS roi,
    first_touch_won_micros,
    last_touch_won_micros
FROM
(
    SELECT * FROM
    (
        SELECT * FROM
        (
            SELECT * FROM
            (
                SELECT * FROM
                (
                    SELECT * FROM
                    (
                        SELECT
                            campaign_id,
                            argMax(name, seq) AS name,
                            argMax(channel, seq) AS channel
                        FROM campaigns
                        WHERE tenant = {tenant:String}
                            AND (empty({campaign_ids:Array(String)}) OR has({campaign_ids:Array(String)}, campaign_id))
                        GROUP BY campaign_id
                    ) AS l1
                    ANY LEFT JOIN
                    (
                        SELECT campaign_id, count() AS members
                        FROM
                        (
                            SELECT campaign_id, member_type, person_id, argMax(added_at, seq) AS added_at
                            FROM members
                            WHERE tenant = {tenant:String}
                            GROUP BY campaign_id, member_type, person_id
                        )
                        WHERE added_at < {to:DateTime}
                        GROUP BY campaign_id
                    ) AS r1 USING campaign_id
                ) AS l2
                ANY LEFT JOIN
                (
                    SELECT
                        campaign_id,
                        uniqExactIf(member_type, person_id, kind = 'sent') AS sent,
                        uniqExactIf(member_type, person_id, kind = 'opened') AS opened,
                        uniqExactIf(member_type, person_id, kind = 'clicked') AS clicked,
                        uniqExactIf(member_type, person_id, responded = 1) AS responded,
                        uniqExactIf(member_type, person_id, kind = 'converted') AS converted
                    FROM responses
                    WHERE tenant = {tenant:String} AND at >= {from:DateTime} AND at < {to:DateTime}
                    GROUP BY campaign_id
                ) AS r2 USING campaign_id
            ) AS l3
            ANY LEFT JOIN
            (
                SELECT campaign_id, sum(amount_micros) AS cost_micros
                FROM costs FINAL
                WHERE tenant = {tenant:String} AND currency = {currency:String}
                    AND date >= {from_date:Date} AND date < {to_date:Date}
                GROUP BY campaign_id
            ) AS r3 USING campaign_id
        ) AS l4
        ANY LEFT JOIN
        (
            SELECT campaign_id, sum(is_lead) AS leads, sum(is_opportunity) AS opportunities
            FROM
            (
                SELECT campaign_id, toUInt64(1) AS is_lead, toUInt64(0) AS is_opportunity
                FROM
                (
                    -- The tenant's leads as FINAL would give them: the latest snapshot for
                    -- those with no row after its upto_seq, FINAL over their rows after it for
                    -- the others (funnel.sql explains; both 0 without a snapshot).
                    SELECT campaign_id, created_at, merged_into_id, toUInt64(0) AS seq
                    FROM leads_snapshot
                    WHERE snapshot = {lead_snapshot:UInt64} AND tenant = {tenant:String}
                        AND lead_id GLOBAL NOT IN (
                            SELECT lead_id FROM leads
                            PREWHERE seq > {lead_upto:UInt64}
                            WHERE tenant = {tenant:String} AND {lead_snapshot:UInt64} != 0)
                    UNION ALL
                    SELECT campaign_id, created_at, merged_into_id, seq
                    FROM leads FINAL
                    PREWHERE seq > {lead_upto:UInt64}
                    WHERE tenant = {tenant:String}
                )
                -- seq >= 0 keeps seq in the FINAL read (funnel.sql: an 18.16 quirk).
                WHERE seq >= 0 AND campaign_id != '' AND merged_into_id = ''
                    AND created_at >= {from:DateTime} AND created_at < {to:DateTime}
                UNION ALL
                SELECT campaign_id, toUInt64(0) AS is_lead, toUInt64(1) AS is_opportunity
                FROM
                (
                    -- The tenant's opportunities as FINAL would give them (as the leads above).
                    SELECT campaign_id, created_at, toUInt64(0) AS seq
                    FROM opportunities_snapshot
                    WHERE snapshot = {opportunity_snapshot:UInt64} AND tenant = {tenant:String}
                        AND opportunity_id GLOBAL NOT IN (
                            SELECT opportunity_id FROM opportunities
                            PREWHERE seq > {opportunity_upto:UInt64}
                            WHERE tenant = {tenant:String} AND {opportunity_snapshot:UInt64} != 0)
                    UNION ALL
                    SELECT campaign_id, created_at, seq
                    FROM opportunities FINAL
                    PREWHERE seq > {opportunity_upto:UInt64}
                    WHERE tenant = {tenant:String}
                )
                WHERE seq >= 0 AND campaign_id != '' AND created_at >= {from:DateTime} AND created_at < {to:DateTime}
            )
            GROUP BY campaign_id
        ) AS r4 USING campaign_id
    ) AS l5
    ANY LEFT JOIN
    (
        SELECT
            campaign_id,
            sum(amount_micros) AS influenced_pipeline_micros,
            sumIf(amount_micros, status = 'won') AS influenced_won_micros,
            sumIf(amount_micros, status = 'won' AND campaign_id = first_campaign) AS first_touch_won_micros,
            sumIf(amount_micros, status = 'won' AND campaign_id = last_campaign) AS last_touch_won_micros
        FROM
        (
            SELECT
                arrayJoin(campaigns) AS campaign_id,
                amount_micros,
                status,
                first_campaign,
                last_campaign
            FROM
            (
                SELECT
                    opportunity_id,
                    any(amount_micros) AS amount_micros,
                    any(status) AS status,
                    argMin(touch_campaign, (t, touch_campaign)) AS first_campaign,
                    argMax(touch_campaign, (t, touch_campaign)) AS last_campaign,
                    groupUniqArray(touch_campaign) AS campaigns
                FROM
                (
                    SELECT opportunity_id, amount_micros, status, created_at, touch_campaign, t
                    FROM
                    (
                        SELECT
                            opportunity_id,
                            amount_micros,
                            status,
                            created_at,
                            tupleElement(person, 1) AS member_type,
                            tupleElement(person, 2) AS person_id
                        FROM
                        (
                            SELECT
                                opportunity_id,
                                amount_micros,
                                status,
                                created_at,
                                arrayJoin(arrayFilter(p -> tupleElement(p, 2) != '',
                                    [('lead', lead_id), ('contact', contact_id)])) AS person
                            FROM
                            (
                                SELECT opportunity_id, amount_micros, status, lead_id, created_at
                                FROM
                                (
                                    -- The tenant's opportunities as FINAL would give them (as above).
                                    SELECT opportunity_id, amount_micros, currency, status, lead_id, created_at, toUInt64(0) AS seq
                                    FROM opportunities_snapshot
                                    WHERE snapshot = {opportunity_snapshot:UInt64} AND tenant = {tenant:String}
                                        AND opportunity_id GLOBAL NOT IN (
                                            SELECT opportunity_id FROM opportunities
                                            PREWHERE seq > {opportunity_upto:UInt64}
                                            WHERE tenant = {tenant:String} AND {opportunity_snapshot:UInt64} != 0)
                                    UNION ALL
                                    SELECT opportunity_id, amount_micros, currency, status, lead_id, created_at, seq
                                    FROM opportunities FINAL
                                    PREWHERE seq > {opportunity_upto:UInt64}
                                    WHERE tenant = {tenant:String}
                                )
                                WHERE seq >= 0 AND currency = {currency:String}
                                    AND created_at >= {from:DateTime} AND created_at < {to:DateTime}
                            ) AS l6
                            ANY LEFT JOIN
                            (
                                SELECT opportunity_id, argMax(contact_id, seq) AS contact_id
                                FROM conversions
                                WHERE tenant = {tenant:String} AND opportunity_id != ''
                                GROUP BY opportunity_id
                            ) AS r6 USING opportunity_id
                        )
                    ) AS l7
                    ALL INNER JOIN
                    (
                        SELECT member_type, person_id, campaign_id AS touch_campaign, t
                        FROM
                        (
                            SELECT campaign_id, member_type, person_id, argMax(added_at, seq) AS t
                            FROM members
                            WHERE tenant = {tenant:String}
                            GROUP BY campaign_id, member_type, person_id
                            UNION ALL
                            SELECT campaign_id, member_type, person_id, at AS t
                            FROM responses
                            WHERE tenant = {tenant:String}
                        )
                    ) AS r7 USING (member_type, person_id)
                    WHERE t < created_at
                )
                GROUP BY opportunity_id
            )
        )
        GROUP BY campaign_id
    ) AS r5 USING campaign_id
)
ORDER BY campaign_id
