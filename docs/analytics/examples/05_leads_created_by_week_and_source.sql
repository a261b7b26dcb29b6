-- New leads per week (weeks start on Monday, UTC) and source, over the last 12 weeks.
SELECT
    toMonday(created_at) AS week,
    source,
    count() AS leads
FROM leads FINAL
WHERE tenant = 'acme'
  AND created_at >= toDateTime(toMonday(today()) - 7 * 12)
GROUP BY week, source
ORDER BY week, source;
