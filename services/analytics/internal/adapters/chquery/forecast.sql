-- forecast.sql — GetForecast: weighted open pipeline by close period, and closed-won.
--
-- From `opportunities` (current state, argMax by seq), in the requested currency only.
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
        SELECT
            opportunity_id,
            argMax(status, seq) AS status,
            argMax(amount_micros, seq) AS amount_micros,
            argMax(probability, seq) AS probability,
            argMax(currency, seq) AS currency,
            argMax(expected_close_date, seq) AS expected_close_date,
            argMax(closed_at, seq) AS closed_at,
            argMax(source, seq) AS source,
            argMax(campaign_id, seq) AS campaign_id,
            argMax(owner_id, seq) AS owner_id,
            argMax(pipeline_id, seq) AS pipeline_id,
            argMax(forecast_category, seq) AS forecast_category
        FROM opportunities
        WHERE tenant = {tenant:String}
        GROUP BY opportunity_id
    )
    )
    WHERE status IN ('open', 'won')
        AND d >= {from_date:Date} AND d < {to_date:Date}
        AND currency = {currency:String}
        AND (empty({sources:Array(String)}) OR has({sources:Array(String)}, source))
        AND (empty({campaign_ids:Array(String)}) OR has({campaign_ids:Array(String)}, campaign_id))
        AND (empty({owner_ids:Array(String)}) OR has({owner_ids:Array(String)}, owner_id))
        AND (empty({pipeline_ids:Array(String)}) OR has({pipeline_ids:Array(String)}, pipeline_id))
)
GROUP BY period_start, key
ORDER BY period_start, key
