-- Leads per current status for one tenant ({tenant:String}), deduplicated with argMax so a
-- replayed or redelivered event never counts twice. Runs on 18.16 and 26.x.
--
-- Alias each argMax with a name that is not a column of the table (cur_status, not status):
-- an alias replaces the column of that name in the whole SELECT, so `argMax(status, version)
-- AS status` breaks any WHERE on status (aggregate in WHERE) and `argMax(version, version) AS
-- version` is an aggregate inside an aggregate, on 18.16 and 26.x alike.
SELECT
    cur_status AS status,
    count() AS leads
FROM
(
    SELECT
        lead_id,
        argMax(status, version) AS cur_status,
        argMax(deleted, version) AS cur_deleted
    FROM example_leads
    WHERE tenant = {tenant:String}
    GROUP BY lead_id
)
WHERE cur_deleted = 0
GROUP BY cur_status
ORDER BY leads DESC, status
