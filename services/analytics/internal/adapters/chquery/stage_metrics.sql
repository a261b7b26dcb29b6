-- stage_metrics.sql — GetStageMetrics: stage conversion and time in stage.
--
-- From `stage_transitions` (FINAL: a replayed transition is the same row key and collapses).
-- For each (pipeline, stage, breakdown value):
--   entered  = transitions into the stage (outcome created, forward, backward or reopened)
--              at a time in [from, to);
--   advanced = transitions out of the stage forward (outcome forward or won) whose entry into
--              the stage (at − time_in_stage_s) is in [from, to);
--   lost     = transitions out of the stage with outcome lost, entry in [from, to);
--   conversion = advanced / entered (computed by the caller);
--   time in stage = time_in_stage_s of every exit (forward, backward, won, lost) whose entry
--              is in [from, to): avg, p50 and p90 (0 without exits) (quantileExact: the value at position
--              ⌊level·n⌋ of the sorted values).
-- Tying exits to entries by the entry time keeps "entered in the range" and "left it" about
-- the same visits to the stage. Breakdown: source, campaign_id, owner_id or pipeline_id of the
-- transition row ('' without one). The stage name is the latest one seen (by time, then stream
-- sequence: two transitions in the same second must not pick a name at random).
SELECT
    pipeline_id,
    stage_id,
    argMax(stage_name, (at, seq)) AS stage_name,
    key,
    countIf(kind = 'enter') AS entered,
    countIf(kind = 'advance') AS advanced,
    countIf(kind = 'lost') AS lost,
    if(countIf(kind != 'enter') > 0, toFloat64(avgIf(dur_s, kind != 'enter')), 0) AS avg_s,
    toInt64(quantileExactIf(0.5)(dur_s, kind != 'enter')) AS p50_s,
    toInt64(quantileExactIf(0.9)(dur_s, kind != 'enter')) AS p90_s
FROM
(
    SELECT
        pipeline_id,
        to_stage_id AS stage_id,
        to_stage_name AS stage_name,
        at,
        seq,
        'enter' AS kind,
        toInt64(0) AS dur_s,
        multiIf(
            {breakdown:String} = 'source', source,
            {breakdown:String} = 'campaign', campaign_id,
            {breakdown:String} = 'owner', owner_id,
            {breakdown:String} = 'pipeline', pipeline_id,
            '') AS key
    FROM stage_transitions FINAL
    WHERE tenant = {tenant:String}
        AND outcome IN ('created', 'forward', 'backward', 'reopened')
        AND to_stage_id != ''
        AND at >= {from:DateTime} AND at < {to:DateTime}
        AND (empty({sources:Array(String)}) OR has({sources:Array(String)}, source))
        AND (empty({campaign_ids:Array(String)}) OR has({campaign_ids:Array(String)}, campaign_id))
        AND (empty({owner_ids:Array(String)}) OR has({owner_ids:Array(String)}, owner_id))
        AND (empty({pipeline_ids:Array(String)}) OR has({pipeline_ids:Array(String)}, pipeline_id))
    UNION ALL
    SELECT
        pipeline_id,
        from_stage_id AS stage_id,
        from_stage_name AS stage_name,
        at,
        seq,
        multiIf(outcome IN ('forward', 'won'), 'advance', outcome = 'lost', 'lost', 'back') AS kind,
        time_in_stage_s AS dur_s,
        multiIf(
            {breakdown:String} = 'source', source,
            {breakdown:String} = 'campaign', campaign_id,
            {breakdown:String} = 'owner', owner_id,
            {breakdown:String} = 'pipeline', pipeline_id,
            '') AS key
    FROM stage_transitions FINAL
    WHERE tenant = {tenant:String}
        AND outcome IN ('forward', 'backward', 'won', 'lost')
        AND from_stage_id != ''
        AND toInt64(toUInt32(at)) - time_in_stage_s >= toInt64(toUInt32({from:DateTime}))
        AND toInt64(toUInt32(at)) - time_in_stage_s < toInt64(toUInt32({to:DateTime}))
        AND (empty({sources:Array(String)}) OR has({sources:Array(String)}, source))
        AND (empty({campaign_ids:Array(String)}) OR has({campaign_ids:Array(String)}, campaign_id))
        AND (empty({owner_ids:Array(String)}) OR has({owner_ids:Array(String)}, owner_id))
        AND (empty({pipeline_ids:Array(String)}) OR has({pipeline_ids:Array(String)}, pipeline_id))
)
GROUP BY pipeline_id, stage_id, key
ORDER BY pipeline_id, stage_id, key
