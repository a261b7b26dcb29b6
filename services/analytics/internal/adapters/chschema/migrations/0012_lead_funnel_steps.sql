-- evcrm:rebuild
-- The funnel's step times folded into each lead's row, so that GetFunnel reads one row per lead
-- instead of grouping every status transition by lead (2.9 s → see docs/analytics.md at 10M
-- events). Each is the first time the lead reached the step, or a later step (a lead that skipped
-- a status reached it at the time of the skip): min over the lead's transitions, which neither
-- a redelivery nor a replay moves. won_at is the first LeadOpportunityWon: the first time an
-- opportunity converted from the lead closed won. 1970-01-01 00:00:00 = not reached.
--
-- Rows written before this migration hold 0 in these columns, so the migration asks for a
-- rebuild (the "evcrm:rebuild" line above): the service starts one by itself when it applies
-- the migration to a database that already had tables, and queries answer from the current
-- tables until the rebuilt ones are swapped in.
--
-- One ALTER, so the columns arrive together (18.16 applies an ALTER's commands atomically and
-- has no ADD COLUMN IF NOT EXISTS: the runner takes "column already exists" from a repeated run
-- of this statement as done).
ALTER TABLE leads
    ADD COLUMN mql_at DateTime AFTER converted_at,
    ADD COLUMN sal_at DateTime AFTER mql_at,
    ADD COLUMN sql_at DateTime AFTER sal_at,
    ADD COLUMN won_at DateTime AFTER sql_at;
