-- Top 10 owners by revenue won this calendar quarter, per currency, with their deal count and
-- average deal size.
SELECT
    owner_id,
    currency,
    count() AS deals_won,
    sum(amount_micros) / 1000000 AS won_revenue,
    round(avg(amount_micros) / 1000000, 2) AS avg_deal
FROM opportunities FINAL
WHERE tenant = 'acme'
  AND status = 'won'
  AND closed_at >= toDateTime(toStartOfQuarter(today()))
GROUP BY owner_id, currency
ORDER BY won_revenue DESC, owner_id
LIMIT 10;
