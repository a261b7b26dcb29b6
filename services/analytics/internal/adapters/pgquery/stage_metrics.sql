-- stage_metrics.sql — GetStageMetrics in PostgreSQL: the metric of chquery/stage_metrics.sql
-- (its comment has the definition), over stage_transitions (one row per transition: the
-- loader's FINAL already removed replays).
--
-- Per (pipeline, stage, breakdown value): entries into the stage at a time in [from, to);
-- exits (forward, backward, won, lost) whose entry (at − time_in_stage_s) is in [from, to):
-- advanced (forward, won), lost, and the time in stage of every exit (avg; p50 and p90 as
-- ClickHouse's quantileExact, quantile_exact in schema.sql). The stage name is the one of the
-- latest row (ClickHouse's argMax(stage_name, (at, seq))).
WITH moves AS (
    SELECT
        pipeline_id,
        to_stage_id AS stage_id,
        to_stage_name AS stage_name,
        at,
        seq,
        'enter' AS kind,
        0::bigint AS dur_s,
        CASE @breakdown::text
            WHEN 'source' THEN source
            WHEN 'campaign' THEN campaign_id
            WHEN 'owner' THEN owner_id
            WHEN 'pipeline' THEN pipeline_id
            ELSE ''
        END AS key
    FROM stage_transitions
    WHERE tenant = @tenant::text
        AND outcome IN ('created', 'forward', 'backward', 'reopened')
        AND to_stage_id <> ''
        AND at >= @from::timestamptz AND at < @to::timestamptz
        AND (cardinality(@sources::text[]) = 0 OR source = ANY (@sources::text[]))
        AND (cardinality(@campaign_ids::text[]) = 0 OR campaign_id = ANY (@campaign_ids::text[]))
        AND (cardinality(@owner_ids::text[]) = 0 OR owner_id = ANY (@owner_ids::text[]))
        AND (cardinality(@pipeline_ids::text[]) = 0 OR pipeline_id = ANY (@pipeline_ids::text[]))
    UNION ALL
    SELECT
        pipeline_id,
        from_stage_id AS stage_id,
        from_stage_name AS stage_name,
        at,
        seq,
        CASE WHEN outcome IN ('forward', 'won') THEN 'advance' WHEN outcome = 'lost' THEN 'lost' ELSE 'back' END AS kind,
        time_in_stage_s AS dur_s,
        CASE @breakdown::text
            WHEN 'source' THEN source
            WHEN 'campaign' THEN campaign_id
            WHEN 'owner' THEN owner_id
            WHEN 'pipeline' THEN pipeline_id
            ELSE ''
        END AS key
    FROM stage_transitions
    WHERE tenant = @tenant::text
        AND outcome IN ('forward', 'backward', 'won', 'lost')
        AND from_stage_id <> ''
        AND epoch_s(at) - time_in_stage_s >= epoch_s(@from::timestamptz)
        AND epoch_s(at) - time_in_stage_s < epoch_s(@to::timestamptz)
        AND (cardinality(@sources::text[]) = 0 OR source = ANY (@sources::text[]))
        AND (cardinality(@campaign_ids::text[]) = 0 OR campaign_id = ANY (@campaign_ids::text[]))
        AND (cardinality(@owner_ids::text[]) = 0 OR owner_id = ANY (@owner_ids::text[]))
        AND (cardinality(@pipeline_ids::text[]) = 0 OR pipeline_id = ANY (@pipeline_ids::text[]))
),
grouped AS (
    SELECT
        pipeline_id,
        stage_id,
        (array_agg(stage_name ORDER BY at DESC, seq DESC))[1] AS stage_name,
        key,
        count(*) FILTER (WHERE kind = 'enter') AS entered,
        count(*) FILTER (WHERE kind = 'advance') AS advanced,
        count(*) FILTER (WHERE kind = 'lost') AS lost,
        count(*) FILTER (WHERE kind <> 'enter') AS exits,
        -- ClickHouse's avg of an Int64: the integer sum over the count, in double precision.
        sum(dur_s) FILTER (WHERE kind <> 'enter') AS dur_sum,
        array_agg(dur_s ORDER BY dur_s) FILTER (WHERE kind <> 'enter') AS durs
    FROM moves
    GROUP BY pipeline_id, stage_id, key
)
SELECT
    pipeline_id,
    stage_id,
    stage_name,
    key,
    entered,
    advanced,
    lost,
    CASE WHEN exits > 0 THEN dur_sum::double precision / exits ELSE 0 END AS avg_s,
    quantile_exact(durs, 0.5) AS p50_s,
    quantile_exact(durs, 0.9) AS p90_s
FROM grouped
ORDER BY pipeline_id COLLATE "C", stage_id COLLATE "C", key COLLATE "C"
