-- funnel.sql — GetFunnel: the lead lifecycle funnel by cohort.
--
-- Cohort: the leads created in [from, to) (current state of `leads`; leads merged into another
-- lead are left out, they are duplicates), grouped by the period of their creation (UTC; weeks
-- start on Monday) and by the breakdown value (source, campaign_id, owner_id or territory_id of
-- the lead's current state; '' without a breakdown).
--
-- Steps: created → mql → sal → sql → converted → won, read from the step times the projector
-- folds into each lead's row (mql_at, sal_at, sql_at, converted_at, won_at; migration 0012):
-- a lead reached a step at its first transition into that status or a later one, so a lead that
-- skipped a status reached it too, at the time of the skip; converted also counts the
-- LeadConverted event, and won is the first LeadOpportunityWon: the first time an opportunity
-- converted from the lead closed won (a later reopen does not undo a step, as a recycled lead
-- keeps having reached MQL). A step counts only when reached within window_s seconds of the
-- lead's creation (window_s = 0: no limit); 1970-01-01 = not reached.
--
-- Times between steps: for the leads that reached a step, its time minus the previous step's
-- time (created_at for mql); p50 and p90 are quantilesExact (the value at position ⌊level·n⌋ of
-- the sorted values, no interpolation; both levels from one sort). Step conversion = count /
-- previous count, overall = count / created: computed by the caller from the counts.
--
-- Replay safety: the step times are min() over the lead's events, which duplicates do not move,
-- and the current state is what FINAL gives (ReplacingMergeTree(seq): the row of the highest
-- seq per key): FINAL itself for the leads with a row after the latest snapshot, the snapshot
-- (a copy of FINAL) for the others. The filters before FINAL are on the tenant (a key column,
-- the same in every row of a lead) and PREWHERE seq > upto, which keeps a lead's highest seq
-- whenever it keeps any of its rows; every other filter sees the collapsed state, never an
-- older row.
--
-- Speed: one row per lead, one pass, no GROUP BY lead_id and no join (10M events: 2.9 s with
-- the transitions grouped by lead at query time; docs/analytics.md "Benchmarks"); most leads
-- come from the snapshot, a plain table read by every core, instead of FINAL's merge of every
-- part in one thread.
SELECT
    period_start,
    key,
    created,
    mql,
    sal,
    sql_reached,
    converted,
    won,
    q_mql[1] AS mql_p50_s,
    q_mql[2] AS mql_p90_s,
    q_sal[1] AS sal_p50_s,
    q_sal[2] AS sal_p90_s,
    q_sql[1] AS sql_p50_s,
    q_sql[2] AS sql_p90_s,
    q_converted[1] AS converted_p50_s,
    q_converted[2] AS converted_p90_s,
    q_won[1] AS won_p50_s,
    q_won[2] AS won_p90_s
FROM
(
    SELECT
        period_start,
        key,
        count() AS created,
        countIf(t_mql != 0) AS mql,
        countIf(t_sal != 0) AS sal,
        countIf(t_sql != 0) AS sql_reached,
        countIf(t_converted != 0) AS converted,
        countIf(t_won != 0) AS won,
        quantilesExactIf(0.5, 0.9)(toInt64(t_mql) - toInt64(t_created), t_mql != 0) AS q_mql,
        quantilesExactIf(0.5, 0.9)(toInt64(t_sal) - toInt64(t_mql), t_sal != 0) AS q_sal,
        quantilesExactIf(0.5, 0.9)(toInt64(t_sql) - toInt64(t_sal), t_sql != 0) AS q_sql,
        quantilesExactIf(0.5, 0.9)(toInt64(t_converted) - toInt64(t_sql), t_converted != 0) AS q_converted,
        quantilesExactIf(0.5, 0.9)(toInt64(t_won) - toInt64(t_converted), t_won != 0) AS q_won
    FROM
    (
        SELECT
            multiIf(
                {period:String} = 'day', toDate(created_at, 'UTC'),
                {period:String} = 'week', toMonday(toDate(created_at, 'UTC')),
                {period:String} = 'quarter', toStartOfQuarter(toDate(created_at, 'UTC')),
                {period:String} = 'year', toStartOfYear(toDate(created_at, 'UTC')),
                toStartOfMonth(toDate(created_at, 'UTC'))) AS period_start,
            multiIf(
                {breakdown:String} = 'source', source,
                {breakdown:String} = 'campaign', campaign_id,
                {breakdown:String} = 'owner', owner_id,
                {breakdown:String} = 'territory', territory_id,
                '') AS key,
            toUInt32(created_at) AS t_created,
            if(toUInt32(mql_at) != 0 AND ({window_s:Int64} = 0 OR toInt64(toUInt32(mql_at)) - toInt64(t_created) <= {window_s:Int64}), toUInt32(mql_at), toUInt32(0)) AS t_mql,
            if(toUInt32(sal_at) != 0 AND ({window_s:Int64} = 0 OR toInt64(toUInt32(sal_at)) - toInt64(t_created) <= {window_s:Int64}), toUInt32(sal_at), toUInt32(0)) AS t_sal,
            if(toUInt32(sql_at) != 0 AND ({window_s:Int64} = 0 OR toInt64(toUInt32(sql_at)) - toInt64(t_created) <= {window_s:Int64}), toUInt32(sql_at), toUInt32(0)) AS t_sql,
            if(toUInt32(converted_at) != 0 AND ({window_s:Int64} = 0 OR toInt64(toUInt32(converted_at)) - toInt64(t_created) <= {window_s:Int64}), toUInt32(converted_at), toUInt32(0)) AS t_converted,
            if(toUInt32(won_at) != 0 AND ({window_s:Int64} = 0 OR toInt64(toUInt32(won_at)) - toInt64(t_created) <= {window_s:Int64}), toUInt32(won_at), toUInt32(0)) AS t_won
        FROM
        (
            -- The tenant's leads as FINAL would give them, read from the latest snapshot
            -- (leads_snapshot, migration 0013) for the leads with no row after its upto_seq
            -- and collapsed with FINAL from their rows after it for the others. With no
            -- snapshot, {snapshot} = {upto} = 0: every lead goes through FINAL.
            SELECT created_at, mql_at, sal_at, sql_at, converted_at, won_at,
                source, campaign_id, owner_id, territory_id, merged_into_id, toUInt64(0) AS seq
            FROM leads_snapshot
            WHERE snapshot = {snapshot:UInt64} AND tenant = {tenant:String}
                AND lead_id GLOBAL NOT IN (
                    SELECT lead_id FROM leads
                    PREWHERE seq > {upto:UInt64}
                    WHERE tenant = {tenant:String} AND {snapshot:UInt64} != 0)
            UNION ALL
            SELECT created_at, mql_at, sal_at, sql_at, converted_at, won_at,
                source, campaign_id, owner_id, territory_id, merged_into_id, seq
            FROM leads FINAL
            PREWHERE seq > {upto:UInt64}
            WHERE tenant = {tenant:String}
        )
        -- seq >= 0 keeps seq in the FINAL read: 18.16 loses a PREWHERE column of a FINAL
        -- read that nothing further up uses ("Not found column seq in block").
        WHERE seq >= 0
            AND created_at >= {from:DateTime} AND created_at < {to:DateTime}
            AND merged_into_id = ''
            AND (empty({sources:Array(String)}) OR has({sources:Array(String)}, source))
            AND (empty({campaign_ids:Array(String)}) OR has({campaign_ids:Array(String)}, campaign_id))
            AND (empty({owner_ids:Array(String)}) OR has({owner_ids:Array(String)}, owner_id))
            AND (empty({territory_ids:Array(String)}) OR has({territory_ids:Array(String)}, territory_id))
    )
    GROUP BY period_start, key
)
ORDER BY period_start, key
