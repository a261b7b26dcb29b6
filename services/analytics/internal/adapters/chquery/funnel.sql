-- funnel.sql — GetFunnel: the lead lifecycle funnel by cohort.
--
-- Cohort: the leads created in [from, to) (current state of `leads`, argMax by seq; leads
-- merged into another lead are left out, they are duplicates), grouped by the period of their
-- creation (UTC; weeks start on Monday) and by the breakdown value (source, campaign_id,
-- owner_id or territory_id of the lead's current state; '' without a breakdown).
--
-- Steps: created → mql → sal → sql → converted → won. A lead reached a step at its first
-- transition into that status or a later one (`lead_transitions`, ranked marketing_qualified 1,
-- sales_accepted 2, sales_qualified 3, converted 4), so a lead that skipped a status reached it
-- too, at the time of the skip. converted also counts the LeadConverted fact (`conversions.at`);
-- won is the close time of the opportunity the lead converted into, when that opportunity is
-- won (`opportunities`, current state). A step counts only when reached within
-- window_s seconds of the lead's creation (window_s = 0: no limit).
--
-- Times between steps: for the leads that reached a step, its time minus the previous step's
-- time (created_at for mql); p50 and p90 are quantileExact (the value at position ⌊level·n⌋ of
-- the sorted values, no interpolation). Step conversion = count / previous count, overall =
-- count / created: computed by the caller from the counts.
--
-- Replay safety: the funnel takes min() times and the current state of `leads` and
-- `opportunities` through FINAL (ReplacingMergeTree(seq): the row of the highest seq per key),
-- which duplicates do not move. FINAL sits in an inner subquery filtered on the tenant only (a
-- key column, the same in every row of a lead), so the other filters see the collapsed state,
-- never an older row.
--
-- Speed: FINAL merges the sorted parts instead of hashing every row for ten argMax() of
-- strings, and one GROUP BY lead_id over the cohort rows and the step rows replaces a JOIN of
-- two grouped subqueries (the row with r = 0 is the lead itself; HAVING keeps the cohort's
-- leads). Only the opportunities a lead converted into are read.
SELECT
    period_start,
    key,
    count() AS created,
    countIf(t_mql != 0) AS mql,
    countIf(t_sal != 0) AS sal,
    countIf(t_sql != 0) AS sql_reached,
    countIf(t_converted != 0) AS converted,
    countIf(t_won != 0) AS won,
    quantileExactIf(0.5)(toInt64(t_mql) - toInt64(t_created), t_mql != 0) AS mql_p50_s,
    quantileExactIf(0.9)(toInt64(t_mql) - toInt64(t_created), t_mql != 0) AS mql_p90_s,
    quantileExactIf(0.5)(toInt64(t_sal) - toInt64(t_mql), t_sal != 0) AS sal_p50_s,
    quantileExactIf(0.9)(toInt64(t_sal) - toInt64(t_mql), t_sal != 0) AS sal_p90_s,
    quantileExactIf(0.5)(toInt64(t_sql) - toInt64(t_sal), t_sql != 0) AS sql_p50_s,
    quantileExactIf(0.9)(toInt64(t_sql) - toInt64(t_sal), t_sql != 0) AS sql_p90_s,
    quantileExactIf(0.5)(toInt64(t_converted) - toInt64(t_sql), t_converted != 0) AS converted_p50_s,
    quantileExactIf(0.9)(toInt64(t_converted) - toInt64(t_sql), t_converted != 0) AS converted_p90_s,
    quantileExactIf(0.5)(toInt64(t_won) - toInt64(t_converted), t_won != 0) AS won_p50_s,
    quantileExactIf(0.9)(toInt64(t_won) - toInt64(t_converted), t_won != 0) AS won_p90_s
FROM
(
    SELECT
        multiIf(
            {period:String} = 'day', toDate(toDateTime(t_created), 'UTC'),
            {period:String} = 'week', toMonday(toDate(toDateTime(t_created), 'UTC')),
            {period:String} = 'quarter', toStartOfQuarter(toDate(toDateTime(t_created), 'UTC')),
            {period:String} = 'year', toStartOfYear(toDate(toDateTime(t_created), 'UTC')),
            toStartOfMonth(toDate(toDateTime(t_created), 'UTC'))) AS period_start,
        key,
        t_created,
        if(r1 != 0 AND ({window_s:Int64} = 0 OR toInt64(r1) - toInt64(t_created) <= {window_s:Int64}), r1, toUInt32(0)) AS t_mql,
        if(r2 != 0 AND ({window_s:Int64} = 0 OR toInt64(r2) - toInt64(t_created) <= {window_s:Int64}), r2, toUInt32(0)) AS t_sal,
        if(r3 != 0 AND ({window_s:Int64} = 0 OR toInt64(r3) - toInt64(t_created) <= {window_s:Int64}), r3, toUInt32(0)) AS t_sql,
        if(r4 != 0 AND ({window_s:Int64} = 0 OR toInt64(r4) - toInt64(t_created) <= {window_s:Int64}), r4, toUInt32(0)) AS t_converted,
        if(r5 != 0 AND ({window_s:Int64} = 0 OR toInt64(r5) - toInt64(t_created) <= {window_s:Int64}), r5, toUInt32(0)) AS t_won
    FROM
    (
        SELECT
            lead_id,
            anyIf(key, r = 0) AS key,
            toUInt32(minIf(t, r = 0)) AS t_created,
            toUInt32(minIf(t, r >= 1)) AS r1,
            toUInt32(minIf(t, r >= 2)) AS r2,
            toUInt32(minIf(t, r >= 3)) AS r3,
            toUInt32(minIf(t, r >= 4)) AS r4,
            toUInt32(minIf(t, r >= 5)) AS r5
        FROM
        (
            SELECT
                lead_id,
                toUInt8(0) AS r,
                created_at AS t,
                multiIf(
                    {breakdown:String} = 'source', source,
                    {breakdown:String} = 'campaign', campaign_id,
                    {breakdown:String} = 'owner', owner_id,
                    {breakdown:String} = 'territory', territory_id,
                    '') AS key
            FROM
            (
                SELECT lead_id, created_at, source, campaign_id, owner_id, territory_id, merged_into_id
                FROM leads FINAL
                WHERE tenant = {tenant:String}
            )
            WHERE created_at >= {from:DateTime} AND created_at < {to:DateTime}
                AND merged_into_id = ''
                AND (empty({sources:Array(String)}) OR has({sources:Array(String)}, source))
                AND (empty({campaign_ids:Array(String)}) OR has({campaign_ids:Array(String)}, campaign_id))
                AND (empty({owner_ids:Array(String)}) OR has({owner_ids:Array(String)}, owner_id))
                AND (empty({territory_ids:Array(String)}) OR has({territory_ids:Array(String)}, territory_id))
            UNION ALL
            SELECT
                lead_id,
                toUInt8(transform(to_status,
                    ['marketing_qualified', 'sales_accepted', 'sales_qualified', 'converted'],
                    [1, 2, 3, 4], 0)) AS r,
                at AS t,
                '' AS key
            FROM lead_transitions
            WHERE tenant = {tenant:String}
                AND lead_created_at >= {from:DateTime} AND lead_created_at < {to:DateTime}
                AND to_status IN ('marketing_qualified', 'sales_accepted', 'sales_qualified', 'converted')
            UNION ALL
            SELECT lead_id, toUInt8(4) AS r, at AS t, '' AS key
            FROM conversions
            WHERE tenant = {tenant:String}
            UNION ALL
            SELECT lead_id, toUInt8(5) AS r, closed_at AS t, '' AS key
            FROM
            (
                SELECT opportunity_id, lead_id, status, closed_at
                FROM opportunities FINAL
                WHERE tenant = {tenant:String}
                    AND opportunity_id IN (SELECT opportunity_id FROM conversions WHERE tenant = {tenant:String})
            )
            WHERE status = 'won'
                AND (lead_id, opportunity_id) IN
                (
                    SELECT lead_id, opportunity_id
                    FROM conversions
                    WHERE tenant = {tenant:String}
                )
        )
        GROUP BY lead_id
        HAVING countIf(r = 0) > 0
    )
)
GROUP BY period_start, key
ORDER BY period_start, key
