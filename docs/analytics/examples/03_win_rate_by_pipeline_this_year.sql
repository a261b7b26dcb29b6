-- Win rate = won / (won + lost) per pipeline, for opportunities closed this calendar year.
-- opportunities is current state: FINAL keeps each opportunity's latest row.
SELECT
    pipeline_id,
    countIf(status = 'won') AS won,
    countIf(status = 'lost') AS lost,
    round(if(won + lost > 0, won / (won + lost), 0), 3) AS win_rate
FROM opportunities FINAL
WHERE tenant = 'acme'
  AND status IN ('won', 'lost')
  AND toYear(closed_at) = toYear(now())
GROUP BY pipeline_id
ORDER BY pipeline_id;
