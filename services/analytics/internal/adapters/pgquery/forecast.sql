-- forecast.sql — GetForecast in PostgreSQL: the metric of chquery/forecast.sql (its comment has
-- the definition), over opportunities (one row per opportunity, its current state).
--
-- The opportunities in the currency that are open with an expected close date in
-- [from_date, to_date) or won with a UTC close date in it, filtered, by the period of that date
-- and the breakdown value: open count, open amount, weighted amount (Σ amount × probability, in
-- double precision) and closed-won amount.
WITH dated AS (
    SELECT
        status,
        amount_micros,
        probability,
        CASE WHEN status = 'open' THEN expected_close_date ELSE utc_date(closed_at) END AS d,
        CASE @breakdown::text
            WHEN 'source' THEN source
            WHEN 'campaign' THEN campaign_id
            WHEN 'owner' THEN owner_id
            WHEN 'pipeline' THEN pipeline_id
            WHEN 'forecast_category' THEN forecast_category
            ELSE ''
        END AS key
    FROM opportunities
    WHERE tenant = @tenant::text
        AND status IN ('open', 'won')
        AND currency = @currency::text
        AND (cardinality(@sources::text[]) = 0 OR source = ANY (@sources::text[]))
        AND (cardinality(@campaign_ids::text[]) = 0 OR campaign_id = ANY (@campaign_ids::text[]))
        AND (cardinality(@owner_ids::text[]) = 0 OR owner_id = ANY (@owner_ids::text[]))
        AND (cardinality(@pipeline_ids::text[]) = 0 OR pipeline_id = ANY (@pipeline_ids::text[]))
)
SELECT
    period_start(@period::text, d) AS period_start,
    key,
    count(*) FILTER (WHERE status = 'open') AS open_opportunities,
    coalesce(sum(amount_micros) FILTER (WHERE status = 'open'), 0)::bigint AS open_micros,
    coalesce(sum(amount_micros * probability) FILTER (WHERE status = 'open'), 0) AS weighted_micros,
    coalesce(sum(amount_micros) FILTER (WHERE status = 'won'), 0)::bigint AS closed_won_micros
FROM dated
WHERE d >= @from_date::date AND d < @to_date::date
GROUP BY 1, key
ORDER BY 1, key COLLATE "C"
