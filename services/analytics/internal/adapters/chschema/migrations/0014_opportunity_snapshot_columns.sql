-- The columns GetForecast and GetCampaignPerformance need from the opportunities' snapshot, so
-- that they too read most opportunities from it instead of collapsing every version (argMax
-- by seq over every row of `opportunities`: 6.9 s for the forecast at 10M events; docs/analytics.md
-- "Snapshots").
--
-- Snapshots taken before this migration hold the defaults in these columns. They are never
-- read: the refresher registers the opportunities' snapshots under a new name in `snapshots`
-- ('opportunities.v2', package chsnapshot), so the queries wait for a snapshot with the new
-- columns (reading FINAL meanwhile) and the old partitions are dropped as superseded.
--
-- One ALTER, so the columns arrive together (0012 explains).
ALTER TABLE opportunities_snapshot
    ADD COLUMN forecast_category String AFTER status,
    ADD COLUMN probability Float64 AFTER forecast_category,
    ADD COLUMN lead_id String AFTER owner_id,
    ADD COLUMN expected_close_date Date AFTER source;
