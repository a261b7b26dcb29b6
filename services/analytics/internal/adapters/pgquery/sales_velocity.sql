-- sales_velocity.sql — GetSalesVelocity in PostgreSQL: the metric of chquery/sales_velocity.sql
-- (its comment has the definition), over opportunities (one row per opportunity, its current
-- state).
--
-- Per (period of closed_at, breakdown value), the opportunities in the currency closed in
-- [from, to): won, lost, win rate, average won amount, average won cycle in days; the
-- opportunities of the same breakdown value open at the period's end (created on a day before
-- it and not closed on a day before it: closed ones count until the later of their close and
-- creation days), and velocity = open × win rate × average amount / cycle. Averages are the
-- integer sum over the count in double precision, as ClickHouse's avg of an Int64.
WITH filtered AS (
    SELECT
        status,
        amount_micros,
        created_at,
        closed_at,
        CASE @breakdown::text
            WHEN 'source' THEN source
            WHEN 'campaign' THEN campaign_id
            WHEN 'owner' THEN owner_id
            WHEN 'pipeline' THEN pipeline_id
            ELSE ''
        END AS key
    FROM opportunities
    WHERE tenant = @tenant::text
        AND currency = @currency::text
        AND (cardinality(@sources::text[]) = 0 OR source = ANY (@sources::text[]))
        AND (cardinality(@campaign_ids::text[]) = 0 OR campaign_id = ANY (@campaign_ids::text[]))
        AND (cardinality(@owner_ids::text[]) = 0 OR owner_id = ANY (@owner_ids::text[]))
        AND (cardinality(@pipeline_ids::text[]) = 0 OR pipeline_id = ANY (@pipeline_ids::text[]))
),
closed AS (
    SELECT
        period_start(@period::text, utc_date(closed_at)) AS period_start,
        key,
        count(*) FILTER (WHERE status = 'won') AS won,
        count(*) FILTER (WHERE status = 'lost') AS lost,
        sum(amount_micros) FILTER (WHERE status = 'won') AS won_micros,
        sum((epoch_s(closed_at) - epoch_s(created_at)) / 86400.0::double precision) FILTER (WHERE status = 'won') AS won_cycle_days
    FROM filtered
    WHERE status IN ('won', 'lost')
        AND closed_at >= @from::timestamptz AND closed_at < @to::timestamptz
    GROUP BY 1, key
),
periods AS (
    SELECT
        *,
        CASE @period::text
            WHEN 'day' THEN period_start + 1
            WHEN 'week' THEN period_start + 7
            WHEN 'quarter' THEN (period_start + interval '3 months')::date
            WHEN 'year' THEN (period_start + interval '1 year')::date
            ELSE (period_start + interval '1 month')::date
        END AS period_end
    FROM closed
),
-- +1 on the day an opportunity was created, −1 on the day it closed (not before its creation),
-- per breakdown value and day: the opportunities open at a period's end are the sum of the
-- days before it.
deltas AS (
    SELECT key, d, sum(delta) AS delta
    FROM (
        SELECT key, utc_date(created_at) AS d, 1 AS delta FROM filtered
        UNION ALL
        SELECT key, greatest(utc_date(closed_at), utc_date(created_at)), -1 FROM filtered WHERE status <> 'open'
    ) AS e
    GROUP BY key, d
),
open_at_end AS (
    SELECT p.period_start, p.key, coalesce(sum(dl.delta), 0)::bigint AS open_opportunities
    FROM periods AS p
    LEFT JOIN deltas AS dl ON dl.key = p.key AND dl.d < p.period_end
    GROUP BY p.period_start, p.key
),
stats AS (
    SELECT
        p.period_start,
        p.key,
        o.open_opportunities,
        p.won,
        p.lost,
        CASE WHEN p.won + p.lost > 0 THEN p.won::double precision / (p.won + p.lost) ELSE 0 END AS win_rate,
        CASE WHEN p.won > 0 THEN p.won_micros::double precision / p.won ELSE 0 END AS avg_deal_micros,
        CASE WHEN p.won > 0 THEN p.won_cycle_days / p.won ELSE 0 END AS sales_cycle_days
    FROM periods AS p
    JOIN open_at_end AS o USING (period_start, key)
)
SELECT
    period_start,
    key,
    open_opportunities,
    won,
    lost,
    win_rate,
    avg_deal_micros,
    sales_cycle_days,
    CASE WHEN sales_cycle_days > 0 THEN open_opportunities * win_rate * avg_deal_micros / sales_cycle_days ELSE 0 END AS velocity_micros_per_day
FROM stats
ORDER BY period_start, key COLLATE "C"
