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
-- Replay safety and speed: the current state is what FINAL gives (ReplacingMergeTree(seq)
-- keeps the row of the highest seq per opportunity, so duplicates collapse), which merges the
-- sorted parts instead of hashing every row for ten argMax() of strings; most opportunities
-- come from the latest snapshot (opportunities_snapshot, a copy of FINAL), the others from
-- FINAL over their rows after the snapshot (as in funnel.sql). The filters before FINAL are
-- on the tenant (a key column) and seq > upto (which keeps an opportunity's highest seq
-- whenever it keeps any of its rows), so the other filters see the collapsed state, never an
-- older row.
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
        arraySum((d, x, e) -> if(d < e, x, 0),
            days, deltas, arrayResize([period_end], length(days), period_end)) AS open_opportunities
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
                -- The tenant's opportunities as FINAL would give them: the latest snapshot for those
                -- with no row after its upto_seq, FINAL over their rows after it for the others
                -- (funnel.sql explains; {snapshot} = {upto} = 0 without a snapshot).
                SELECT status, amount_micros, currency, created_at, closed_at, source, campaign_id, owner_id, pipeline_id, toUInt64(0) AS seq
                FROM opportunities_snapshot
                WHERE snapshot = {snapshot:UInt64} AND tenant = {tenant:String}
                    AND opportunity_id GLOBAL NOT IN (
                        SELECT opportunity_id FROM opportunities
                        PREWHERE seq > {upto:UInt64}
                        WHERE tenant = {tenant:String} AND {snapshot:UInt64} != 0)
                UNION ALL
                SELECT status, amount_micros, currency, created_at, closed_at, source, campaign_id, owner_id, pipeline_id, seq
                FROM opportunities FINAL
                PREWHERE seq > {upto:UInt64}
                WHERE tenant = {tenant:String}
            )
            -- seq >= 0 keeps seq in the FINAL read (funnel.sql: an 18.16 quirk).
            WHERE seq >= 0 AND status IN ('won', 'lost')
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
        -- Opportunities open at the end of a period, counted from each one's days: +1 on the
        -- day it was created, −1 on the day it closed (not before it was created), summed per
        -- breakdown value and day, so that the count at any period end is the sum of the days
        -- before it (created before the end and not closed before it) over a few hundred days
        -- per value instead of one array element per opportunity. The opportunities are first
        -- counted per (value, created day, closed day): one hash aggregation over plain
        -- columns, and only its far fewer rows are unfolded into days.
        SELECT key, groupArray(d) AS days, groupArray(delta) AS deltas
        FROM
        (
            SELECT key, e.1 AS d, sum(e.2) AS delta
            FROM
            (
                SELECT
                    key,
                    arrayJoin(if(is_open,
                        [(created, toInt64(n))],
                        [(created, toInt64(n)), (closed, -toInt64(n))])) AS e
                FROM
                (
                    SELECT
                        multiIf(
                            {breakdown:String} = 'source', source,
                            {breakdown:String} = 'campaign', campaign_id,
                            {breakdown:String} = 'owner', owner_id,
                            {breakdown:String} = 'pipeline', pipeline_id,
                            '') AS key,
                        status = 'open' AS is_open,
                        toDate(created_at, 'UTC') AS created,
                        if(is_open, created, greatest(toDate(closed_at, 'UTC'), created)) AS closed,
                        count() AS n
                    FROM
                    (
                        -- The tenant's opportunities as FINAL would give them: the latest snapshot for those
                        -- with no row after its upto_seq, FINAL over their rows after it for the others
                        -- (funnel.sql explains; {snapshot} = {upto} = 0 without a snapshot).
                        SELECT status, currency, created_at, closed_at, source, campaign_id, owner_id, pipeline_id, toUInt64(0) AS seq
                        FROM opportunities_snapshot
                        WHERE snapshot = {snapshot:UInt64} AND tenant = {tenant:String}
                            AND opportunity_id GLOBAL NOT IN (
                                SELECT opportunity_id FROM opportunities
                                PREWHERE seq > {upto:UInt64}
                                WHERE tenant = {tenant:String} AND {snapshot:UInt64} != 0)
                        UNION ALL
                        SELECT status, currency, created_at, closed_at, source, campaign_id, owner_id, pipeline_id, seq
                        FROM opportunities FINAL
                        PREWHERE seq > {upto:UInt64}
                        WHERE tenant = {tenant:String}
                    )
                    WHERE seq >= 0 AND currency = {currency:String}
                        AND (empty({sources:Array(String)}) OR has({sources:Array(String)}, source))
                        AND (empty({campaign_ids:Array(String)}) OR has({campaign_ids:Array(String)}, campaign_id))
                        AND (empty({owner_ids:Array(String)}) OR has({owner_ids:Array(String)}, owner_id))
                        AND (empty({pipeline_ids:Array(String)}) OR has({pipeline_ids:Array(String)}, pipeline_id))
                    GROUP BY key, is_open, created, closed
                )
            )
            GROUP BY key, d
        )
        GROUP BY key
    ) AS r1 USING key
)
ORDER BY period_start, key
