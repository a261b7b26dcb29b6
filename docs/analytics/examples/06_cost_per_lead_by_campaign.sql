-- Cost per lead per campaign over the last 90 days: cost entries recorded in the period,
-- divided by the leads created in the period whose campaign is that campaign. Costs and leads
-- are aggregated separately, then joined on the campaign (ANY LEFT JOIN: one row per key on
-- the right, and written out because 18.16 has no default join strictness).
SELECT
    campaign_id,
    currency,
    cost_micros / 1000000 AS cost,
    new_leads,
    if(new_leads > 0, round(cost_micros / 1000000 / new_leads, 2), 0) AS cost_per_lead
FROM
(
    SELECT campaign_id, currency, sum(amount_micros) AS cost_micros
    FROM costs FINAL
    WHERE tenant = 'acme' AND date >= today() - 90
    GROUP BY campaign_id, currency
) AS c
ANY LEFT JOIN
(
    SELECT campaign_id, count() AS new_leads
    FROM leads FINAL
    WHERE tenant = 'acme' AND campaign_id != '' AND created_at >= now() - INTERVAL 90 DAY
    GROUP BY campaign_id
) AS l USING (campaign_id)
ORDER BY cost_per_lead DESC, campaign_id;
