-- Days from lead creation to conversion, per source, for leads converted in the last 6 months
-- (converted_at is 1970-01-01 for a lead that has not converted).
SELECT
    source,
    count() AS converted,
    round(avg(converted_at - created_at) / 86400, 1) AS avg_days,
    round(quantileExact(0.5)(converted_at - created_at) / 86400, 1) AS median_days
FROM leads FINAL
WHERE tenant = 'acme'
  AND converted_at > toDateTime(0)
  AND converted_at >= now() - INTERVAL 6 MONTH
GROUP BY source
ORDER BY converted DESC, source;
