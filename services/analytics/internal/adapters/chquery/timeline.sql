-- timeline.sql — GetTimeline: the 360° view of one account, newest first.
--
-- Every event (`events`, FINAL: a replayed event is the same (stream, seq) and collapses)
-- whose aggregate is the account itself, one of its contacts (current state of `contacts`),
-- a lead that converted into it (`conversions.account_id`), one of its opportunities (current
-- state of `opportunities`), or a campaign membership of those contacts and leads (the
-- member aggregate: campaign touches, responses). Ordered by (occurred_at, stream, seq)
-- descending; pages are keyset: the next page starts after the last row's
-- (occurred_at, stream, seq), given as cursor_* with has_cursor = 1. limit is the page size
-- plus one (the extra row says there is a next page).
SELECT
    occurred_at,
    stream,
    seq,
    event_id,
    event_type,
    aggregate_type,
    aggregate_id,
    actor,
    payload_json
FROM events FINAL
WHERE tenant = {tenant:String}
    AND ({has_cursor:UInt8} = 0
        OR (occurred_at, stream, seq) < ({cursor_at:DateTime}, {cursor_stream:String}, {cursor_seq:UInt64}))
    AND aggregate_id IN
    (
        SELECT {account_id:String}
        UNION ALL
        SELECT contact_id
        FROM
        (
            SELECT contact_id, argMax(account_id, seq) AS account_id
            FROM contacts
            WHERE tenant = {tenant:String}
            GROUP BY contact_id
        )
        WHERE account_id = {account_id:String}
        UNION ALL
        SELECT lead_id
        FROM conversions
        WHERE tenant = {tenant:String} AND account_id = {account_id:String}
        UNION ALL
        SELECT opportunity_id
        FROM
        (
            SELECT opportunity_id, argMax(account_id, seq) AS account_id
            FROM opportunities
            WHERE tenant = {tenant:String}
            GROUP BY opportunity_id
        )
        WHERE account_id = {account_id:String}
        UNION ALL
        SELECT member_id
        FROM members
        WHERE tenant = {tenant:String}
            AND ((member_type = 'lead' AND person_id IN
                    (
                        SELECT lead_id
                        FROM conversions
                        WHERE tenant = {tenant:String} AND account_id = {account_id:String}
                    ))
                OR (member_type = 'contact' AND person_id IN
                    (
                        SELECT contact_id
                        FROM
                        (
                            SELECT contact_id, argMax(account_id, seq) AS account_id
                            FROM contacts
                            WHERE tenant = {tenant:String}
                            GROUP BY contact_id
                        )
                        WHERE account_id = {account_id:String}
                    )))
    )
ORDER BY occurred_at DESC, stream DESC, seq DESC
LIMIT {limit:UInt32}
