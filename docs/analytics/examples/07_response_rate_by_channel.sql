-- Response and unsubscribe rate per campaign channel over every campaign member: members is
-- current state per (campaign, member type, person); the channel comes from campaigns.
SELECT
    channel,
    count() AS members,
    sum(responded) AS responders,
    sum(unsubscribed) AS unsubscribes,
    round(if(members > 0, responders / members, 0), 3) AS response_rate,
    round(if(members > 0, unsubscribes / members, 0), 3) AS unsubscribe_rate
FROM
(
    SELECT campaign_id, responded, unsubscribed
    FROM members FINAL
    WHERE tenant = 'acme'
) AS m
ANY LEFT JOIN
(
    SELECT campaign_id, channel
    FROM campaigns FINAL
    WHERE tenant = 'acme'
) AS c USING (campaign_id)
GROUP BY channel
ORDER BY members DESC, channel;
