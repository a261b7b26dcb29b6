-- Median (and p90) days opportunities spent in the Negotiation stage, by owner, over the stage
-- exits of the last 12 months. stage_transitions.time_in_stage_s is the time spent in the
-- stage the opportunity left (from_stage), so every exit from Negotiation (forward, backward,
-- won or lost) is one observation.
SELECT
    owner_id,
    count() AS exits,
    round(quantileExact(0.5)(time_in_stage_s) / 86400, 1) AS median_days,
    round(quantileExact(0.9)(time_in_stage_s) / 86400, 1) AS p90_days
FROM stage_transitions FINAL
WHERE tenant = 'acme'
  AND from_stage_name = 'Negotiation'
  AND outcome != 'created'
  AND at >= now() - INTERVAL 12 MONTH
GROUP BY owner_id
ORDER BY median_days DESC, owner_id;
