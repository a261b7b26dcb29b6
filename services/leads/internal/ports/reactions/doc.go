// Package reactions holds the leads service's event reactions: durable consumers (libs/projection
// durable runners) that turn facts from the log into commands on leads. Activity engagement is
// the first; campaign responses (a click raises the lead's engagement) belong here too.
//
// A reaction's command carries an idempotency key derived from the event that caused it, so a
// redelivered event changes nothing the second time. A command the lead refuses for good — the
// lead is gone, merged or converted — is skipped with a log line rather than retried: the
// reaction must never wedge its consumer on one event.
package reactions
