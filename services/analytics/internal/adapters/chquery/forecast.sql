-- forecast.sql — GetForecast: weighted open pipeline by close period, and closed-won.
--
-- From `opportunities` (current state: what FINAL gives, most of it read from the latest
-- snapshot as in sales_velocity.sql; funnel.sql explains), in the requested currency only.
-- A date d is in the range when its midnight (UTC) is in [from, to): the caller passes the
-- first and the past-the-end day as from_date and to_date.
--   open opportunities: status open, expected_close_date in the range, bucketed by the period
--     of expected_close_date (weeks start on Monday):
--       open_opportunities = count, open_micros = Σ amount_micros,
--       weighted_micros = Σ amount_micros × probability (probability 0..1, the stage's or
--       the one set on the opportunity);
--   closed_won_micros = Σ amount_micros of the won opportunities whose close date (closed_at,
--     UTC) is in the range, bucketed by the period of that date.
-- Breakdown: owner_id, forecast_category, pipeline_id, source or campaign_id ('' without one).
SELECT
    period_start,
    key,
    countIf(status = 'open') AS open_opportunities,
    sumIf(amount_micros, status = 'open') AS open_micros,
    toFloat64(sumIf(amount_micros * probability, status = 'open')) AS weighted_micros,
    sumIf(amount_micros, status = 'won') AS closed_won_micros
FROM
(
    SELECT
        status,
        amount_micros,
        probability,
        multiIf(
            {period:String} = 'day', d,
            {period:String} = 'week', toMonday(d),
            {period:String} = 'quarter', toStartOfQuarter(d),
            {period:String} = 'year', toStartOfYear(d),
            toStartOfMonth(d)) AS period_start,
        multiIf(
            {breakdown:String} = 'source', source,
            {breakdown:String} = 'campaign', campaign_id,
            {breakdown:String} = 'owner', owner_id,
            {breakdown:String} = 'pipeline', pipeline_id,
            {breakdown:String} = 'forecast_category', forecast_category,
            '') AS key
    FROM
    (
    SELECT
        *,
        if(status = 'open', expected_close_date, toDate(closed_at, 'UTC')) AS d
    FROM
    (
        -- The tenant's opportunities as FINAL would give them: the latest snapshot for those
        -- with no row after its upto_seq, FINAL over their rows after it for the others
        -- (funnel.sql explains; {snapshot} = {upto} = 0 without a snapshot).
        SELECT status, amount_micros, probability, currency, expected_close_date, closed_at,
            source, campaign_id, owner_id, pipeline_id, forecast_category, toUInt64(0) AS seq
        FROM opportunities_snapshot
        WHERE snapshot = {snapshot:UInt64} AND tenant = {tenant:String}
            AND opportunity_id GLOBAL NOT IN (
                SELECT opportunity_id FROM opportunities
                PREWHERE seq > {upto:UInt64}
                WHERE tenant = {tenant:String} AND {snapshot:UInt64} != 0)
        UNION ALL
        SELECT status, amount_micros, probability, currency, expected_close_date, closed_at,
            source, campaign_id, owner_id, pipeline_id, forecast_category, seq
        FROM opportunities FINAL
        PREWHERE seq > {upto:UInt64}
        WHERE tenant = {tenant:String}
    )
    )
    -- seq >= 0 keeps seq in the FINAL read (funnel.sql: an 18.16 quirk).
    WHERE seq >= 0 AND status IN ('open', 'won')
        AND d >= {from_date:Date} AND d < {to_date:Date}
        AND currency = {currency:String}
        AND (empty({sources:Array(String)}) OR has({sources:Array(String)}, source))
        AND (empty({campaign_ids:Array(String)}) OR has({campaign_ids:Array(String)}, campaign_id))
        AND (empty({owner_ids:Array(String)}) OR has({owner_ids:Array(String)}, owner_id))
        AND (empty({pipeline_ids:Array(String)}) OR has({pipeline_ids:Array(String)}, pipeline_id))
)
GROUP BY period_start, key
ORDER BY period_start, key
