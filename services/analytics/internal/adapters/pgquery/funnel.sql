-- funnel.sql — GetFunnel in PostgreSQL: the metric of chquery/funnel.sql (its comment has the
-- definition), over the tables of schema.sql.
--
-- Cohort: the leads created in [from, to), not merged away, filtered, by the period of their
-- UTC creation date and the breakdown value. A step counts when its time is set (not 1970) and,
-- with a window (window_s > 0), at most window_s seconds after creation. Times between steps:
-- the step's time minus the previous step's (created_at for mql), p50 and p90 as ClickHouse's
-- quantileExact (quantile_exact in schema.sql: position ⌊q·n⌋ of the sorted values).
WITH cohort AS (
    SELECT
        period_start(@period::text, utc_date(created_at)) AS period_start,
        CASE @breakdown::text
            WHEN 'source' THEN source
            WHEN 'campaign' THEN campaign_id
            WHEN 'owner' THEN owner_id
            WHEN 'territory' THEN territory_id
            ELSE ''
        END AS key,
        epoch_s(created_at) AS t_created,
        epoch_s(mql_at) AS mql_s,
        epoch_s(sal_at) AS sal_s,
        epoch_s(sql_at) AS sql_s,
        epoch_s(converted_at) AS converted_s,
        epoch_s(won_at) AS won_s
    FROM leads
    WHERE tenant = @tenant::text
        AND created_at >= @from::timestamptz AND created_at < @to::timestamptz
        AND merged_into_id = ''
        AND (cardinality(@sources::text[]) = 0 OR source = ANY (@sources::text[]))
        AND (cardinality(@campaign_ids::text[]) = 0 OR campaign_id = ANY (@campaign_ids::text[]))
        AND (cardinality(@owner_ids::text[]) = 0 OR owner_id = ANY (@owner_ids::text[]))
        AND (cardinality(@territory_ids::text[]) = 0 OR territory_id = ANY (@territory_ids::text[]))
),
steps AS (
    -- 0 = not reached (or reached after the window), as ClickHouse's t_mql … t_won.
    SELECT
        period_start,
        key,
        t_created,
        CASE WHEN mql_s <> 0 AND (@window_s::bigint = 0 OR mql_s - t_created <= @window_s::bigint) THEN mql_s ELSE 0 END AS t_mql,
        CASE WHEN sal_s <> 0 AND (@window_s::bigint = 0 OR sal_s - t_created <= @window_s::bigint) THEN sal_s ELSE 0 END AS t_sal,
        CASE WHEN sql_s <> 0 AND (@window_s::bigint = 0 OR sql_s - t_created <= @window_s::bigint) THEN sql_s ELSE 0 END AS t_sql,
        CASE WHEN converted_s <> 0 AND (@window_s::bigint = 0 OR converted_s - t_created <= @window_s::bigint) THEN converted_s ELSE 0 END AS t_converted,
        CASE WHEN won_s <> 0 AND (@window_s::bigint = 0 OR won_s - t_created <= @window_s::bigint) THEN won_s ELSE 0 END AS t_won
    FROM cohort
),
grouped AS (
    SELECT
        period_start,
        key,
        count(*) AS created,
        count(*) FILTER (WHERE t_mql <> 0) AS mql,
        count(*) FILTER (WHERE t_sal <> 0) AS sal,
        count(*) FILTER (WHERE t_sql <> 0) AS sql_reached,
        count(*) FILTER (WHERE t_converted <> 0) AS converted,
        count(*) FILTER (WHERE t_won <> 0) AS won,
        array_agg(t_mql - t_created ORDER BY t_mql - t_created) FILTER (WHERE t_mql <> 0) AS d_mql,
        array_agg(t_sal - t_mql ORDER BY t_sal - t_mql) FILTER (WHERE t_sal <> 0) AS d_sal,
        array_agg(t_sql - t_sal ORDER BY t_sql - t_sal) FILTER (WHERE t_sql <> 0) AS d_sql,
        array_agg(t_converted - t_sql ORDER BY t_converted - t_sql) FILTER (WHERE t_converted <> 0) AS d_converted,
        array_agg(t_won - t_converted ORDER BY t_won - t_converted) FILTER (WHERE t_won <> 0) AS d_won
    FROM steps
    GROUP BY period_start, key
)
SELECT
    period_start,
    key,
    created,
    mql,
    sal,
    sql_reached,
    converted,
    won,
    quantile_exact(d_mql, 0.5) AS mql_p50_s,
    quantile_exact(d_mql, 0.9) AS mql_p90_s,
    quantile_exact(d_sal, 0.5) AS sal_p50_s,
    quantile_exact(d_sal, 0.9) AS sal_p90_s,
    quantile_exact(d_sql, 0.5) AS sql_p50_s,
    quantile_exact(d_sql, 0.9) AS sql_p90_s,
    quantile_exact(d_converted, 0.5) AS converted_p50_s,
    quantile_exact(d_converted, 0.9) AS converted_p90_s,
    quantile_exact(d_won, 0.5) AS won_p50_s,
    quantile_exact(d_won, 0.9) AS won_p90_s
FROM grouped
ORDER BY period_start, key COLLATE "C"
