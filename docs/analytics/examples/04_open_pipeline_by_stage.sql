-- Open pipeline by stage today: count, total and probability-weighted amount per currency.
-- Written with argMax instead of FINAL: the latest value of each column by stream sequence,
-- per opportunity (the two forms give the same answer; argMax also works inside larger
-- aggregations and on a cluster). The aliases differ from the column names on purpose: an
-- alias equal to a column would be resolved into the aggregate itself.
SELECT
    stage_now,
    currency_now AS currency,
    count() AS opportunities,
    sum(amount_now) / 1000000 AS amount,
    round(sum(amount_now * probability_now) / 1000000, 2) AS weighted_amount
FROM
(
    SELECT
        opportunity_id,
        argMax(stage_name, seq) AS stage_now,
        argMax(status, seq) AS status_now,
        argMax(amount_micros, seq) AS amount_now,
        argMax(probability, seq) AS probability_now,
        argMax(currency, seq) AS currency_now
    FROM opportunities
    WHERE tenant = 'acme'
    GROUP BY opportunity_id
)
WHERE status_now = 'open'
GROUP BY stage_now, currency
ORDER BY amount DESC, stage_now;
