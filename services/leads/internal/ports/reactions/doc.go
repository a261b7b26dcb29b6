// Package reactions holds the leads service's event reactions: durable consumers (libs/projection
// durable runners) that turn facts from the log into commands on leads and contacts: a logged
// activity raises the lead's engagement (Engagement), a campaign response raises it too, an
// unsubscribe also setting the person's email opt-out (CampaignResponses), and a won
// opportunity is recorded on the lead it was converted from (OpportunityWins).
//
// A reaction's command carries an idempotency key derived from the event that caused it, so a
// redelivered event changes nothing the second time. A command the lead refuses for good — the
// lead is gone, merged or converted — is skipped with a log line rather than retried: the
// reaction must never wedge its consumer on one event. The one exception is an unsubscribe,
// which follows the person to the merge survivor or to the contact a conversion made.
package reactions
