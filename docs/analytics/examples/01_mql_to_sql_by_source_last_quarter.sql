-- Conversion MQL -> SQL by source, last quarter.
-- Leads that became marketing qualified during the last calendar quarter (UTC), per lead
-- source, and how many of them have reached sales qualified since (at any time after).
-- lead_transitions holds one row per status change; FINAL collapses a replayed event.
SELECT
    source,
    uniqExact(lead_id) AS mql,
    uniqExactIf(lead_id, reached_sql) AS became_sql,
    round(if(mql > 0, became_sql / mql, 0), 3) AS mql_to_sql_rate
FROM
(
    SELECT
        lead_id,
        any(source) AS source,
        max(to_status = 'sales_qualified') AS reached_sql,
        minIf(at, to_status = 'marketing_qualified') AS mql_at
    FROM lead_transitions FINAL
    WHERE tenant = 'acme' AND to_status IN ('marketing_qualified', 'sales_qualified')
    GROUP BY lead_id
)
WHERE mql_at >= toDateTime(toStartOfQuarter(addMonths(today(), -3)))
  AND mql_at < toDateTime(toStartOfQuarter(today()))
GROUP BY source
ORDER BY mql DESC, source;
