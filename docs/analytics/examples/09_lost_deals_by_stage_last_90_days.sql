-- Where deals are lost: opportunities lost in the last 90 days by the stage they were lost
-- from, with the amount lost per currency and how long they had sat in that stage.
SELECT
    from_stage_name AS lost_from_stage,
    currency,
    count() AS lost,
    sum(amount_micros) / 1000000 AS amount_lost,
    round(avg(time_in_stage_s) / 86400, 1) AS avg_days_in_stage
FROM stage_transitions FINAL
WHERE tenant = 'acme'
  AND outcome = 'lost'
  AND at >= now() - INTERVAL 90 DAY
GROUP BY lost_from_stage, currency
ORDER BY lost DESC, lost_from_stage;
