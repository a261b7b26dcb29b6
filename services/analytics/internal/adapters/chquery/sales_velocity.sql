-- sales_velocity.sql — GetSalesVelocity: win rate, deal size, sales cycle, velocity.
--
-- From `opportunities` (current state, argMax by seq), only those in the requested currency
-- (amounts in other currencies cannot be added up). One row per (period, breakdown value) in
-- which an opportunity closed (closed_at in [from, to), bucketed by the period of closed_at,
-- UTC; weeks start on Monday):
--   won, lost          = opportunities closed won / lost in the period;
--   win_rate           = won / (won + lost), 0 when none closed;
--   avg_deal_micros    = average amount of the won ones;
--   sales_cycle_days   = average (closed_at − created_at) of the won ones, in days;
--   open_opportunities = opportunities of the same breakdown value open at the end of the
--                        period: created before it ended and not closed before it ended;
--   velocity_micros_per_day = open_opportunities × win_rate × avg_deal_micros /
--                        sales_cycle_days (0 when the cycle is 0).
-- Breakdown: source, campaign_id, owner_id or pipeline_id ('' without one).
--
-- Replay safety and speed: the current state comes from FINAL (ReplacingMergeTree(seq) keeps
-- the row of the highest seq per opportunity, so duplicates collapse), which merges the sorted
-- parts instead of hashing every row for ten argMax() of strings. FINAL sits in an inner
-- subquery filtered on the tenant only (a key column), so the other filters see the collapsed
-- state, never an older row.
SELECT
    period_start,
    key,
    toUInt64(open_opportunities) AS open_opportunities,
    won,
    lost,
    win_rate,
    avg_deal_micros,
    sales_cycle_days,
    if(sales_cycle_days > 0, open_opportunities * win_rate * avg_deal_micros / sales_cycle_days, 0) AS velocity_micros_per_day
FROM
(
    SELECT
        period_start,
        period_end,
        key,
        won,
        lost,
        if(won + lost > 0, won / (won + lost), 0) AS win_rate,
        if(won > 0, avg_deal_micros, 0) AS avg_deal_micros,
        if(won > 0, sales_cycle_days, 0) AS sales_cycle_days,
        -- period_end goes in as an array: 18.16's lambdas cannot capture a column of a join.
        arrayCount((c, x, o, e) -> c < e AND (o = 1 OR x >= e),
            created_days, closed_days, open_flags,
            arrayResize([period_end], length(created_days), period_end)) AS open_opportunities
    FROM
    (
        SELECT
            period_start,
            multiIf(
                {period:String} = 'day', addDays(period_start, 1),
                {period:String} = 'week', addDays(period_start, 7),
                {period:String} = 'quarter', addMonths(period_start, 3),
                {period:String} = 'year', addYears(period_start, 1),
                addMonths(period_start, 1)) AS period_end,
            key,
            countIf(status = 'won') AS won,
            countIf(status = 'lost') AS lost,
            toFloat64(avgIf(amount_micros, status = 'won')) AS avg_deal_micros,
            toFloat64(avgIf((toInt64(toUInt32(closed_at)) - toInt64(toUInt32(created_at))) / 86400, status = 'won')) AS sales_cycle_days
        FROM
        (
            SELECT
                status,
                amount_micros,
                created_at,
                closed_at,
                multiIf(
                    {period:String} = 'day', toDate(closed_at, 'UTC'),
                    {period:String} = 'week', toMonday(toDate(closed_at, 'UTC')),
                    {period:String} = 'quarter', toStartOfQuarter(toDate(closed_at, 'UTC')),
                    {period:String} = 'year', toStartOfYear(toDate(closed_at, 'UTC')),
                    toStartOfMonth(toDate(closed_at, 'UTC'))) AS period_start,
                multiIf(
                    {breakdown:String} = 'source', source,
                    {breakdown:String} = 'campaign', campaign_id,
                    {breakdown:String} = 'owner', owner_id,
                    {breakdown:String} = 'pipeline', pipeline_id,
                    '') AS key
            FROM
            (
                SELECT status, amount_micros, currency, created_at, closed_at, source, campaign_id, owner_id, pipeline_id
                FROM opportunities FINAL
                WHERE tenant = {tenant:String}
            )
            WHERE status IN ('won', 'lost')
                AND closed_at >= {from:DateTime} AND closed_at < {to:DateTime}
                AND currency = {currency:String}
                AND (empty({sources:Array(String)}) OR has({sources:Array(String)}, source))
                AND (empty({campaign_ids:Array(String)}) OR has({campaign_ids:Array(String)}, campaign_id))
                AND (empty({owner_ids:Array(String)}) OR has({owner_ids:Array(String)}, owner_id))
                AND (empty({pipeline_ids:Array(String)}) OR has({pipeline_ids:Array(String)}, pipeline_id))
        )
        GROUP BY period_start, key
    ) AS l1
    ANY LEFT JOIN
    (
        SELECT
            key,
            groupArray(toDate(created_at, 'UTC')) AS created_days,
            groupArray(toDate(closed_at, 'UTC')) AS closed_days,
            groupArray(toUInt8(status = 'open')) AS open_flags
        FROM
        (
            SELECT
                status,
                created_at,
                closed_at,
                multiIf(
                    {breakdown:String} = 'source', source,
                    {breakdown:String} = 'campaign', campaign_id,
                    {breakdown:String} = 'owner', owner_id,
                    {breakdown:String} = 'pipeline', pipeline_id,
                    '') AS key
            FROM
            (
                SELECT status, currency, created_at, closed_at, source, campaign_id, owner_id, pipeline_id
                FROM opportunities FINAL
                WHERE tenant = {tenant:String}
            )
            WHERE currency = {currency:String}
                AND (empty({sources:Array(String)}) OR has({sources:Array(String)}, source))
                AND (empty({campaign_ids:Array(String)}) OR has({campaign_ids:Array(String)}, campaign_id))
                AND (empty({owner_ids:Array(String)}) OR has({owner_ids:Array(String)}, owner_id))
                AND (empty({pipeline_ids:Array(String)}) OR has({pipeline_ids:Array(String)}, pipeline_id))
        )
        GROUP BY key
    ) AS r1 USING key
)
ORDER BY period_start, key
