// Package projection drives read models and the analytics projector from the evcrm event
// streams (CRM_LEADS, CRM_PIPELINE, CRM_CAMPAIGN). A [Runner] consumes one or more streams,
// decodes every message body into a crm.events.v1.Envelope and hands the events to a [Handler]
// in batches bounded by size and time.
//
// # Two modes
//
// [NewDurable] uses one durable pull consumer per stream with explicit acks. The consumer's ack
// floor is the checkpoint, so the sink keeps none: it must instead be idempotent by
// (stream, sequence) or by envelope event_id, because an event is delivered again whenever its
// ack did not reach the server (crash, network cut, ack wait expired) or the server restarted
// before storing it. Several processes running a Runner with the same Name share the consumers
// and split the events between them; that is how the analytics projector scales. Use it for sinks that are shared by all replicas.
//
// [NewOrdered] uses an ordered (ephemeral, unacknowledged) consumer per stream that starts right
// after the sink's own checkpoint ([Checkpointer]). The sink writes the new checkpoint atomically
// with the data inside Handle, which makes it exactly-once without any ack: whatever Handle
// committed is never offered again by this Runner, and whatever it did not commit is offered
// again. Use it for per-replica read models (in memory, or in a store the replica owns).
//
// # Contract with the handler
//
//   - Handle is never called concurrently by one Runner, even when it consumes several streams,
//     so a sink needs no locking against itself. Every batch comes from one stream.
//   - Within one stream, events arrive in stream order. A durable consumer breaks that order only
//     for redeliveries (an event that failed comes back after later events may have been
//     applied) and, with several replicas, between replicas; sinks that care must compare
//     aggregate_version. An ordered consumer never breaks it.
//   - Handle returning nil means the whole batch is applied; the Runner then acks it (durable)
//     or records it as done (ordered). Handle returning an error means nothing of the batch may
//     be considered applied: a sink that cannot roll back must be idempotent.
//   - A failed batch is offered again after a backoff ([Config.Backoff]), at most
//     [Config.MaxDeliver] times. The last attempt hands the events over one at a time, so that
//     only an event that fails on its own is dead-lettered, never its innocent neighbours.
//   - An event the handler can never apply is reported with [Poison]: the Runner writes it to the
//     dead-letter stream, counts it, and immediately offers the rest of the batch again.
//     Envelopes that do not decode are dead-lettered without reaching the handler.
//   - The context passed to Handle is cancelled when Run's context is (after
//     [Config.StopGrace]). Handle should then return promptly with an error; the batch is given
//     back to the server (nak) rather than acked. Run never acks a batch Handle did not finish.
//
// # Dead letters
//
// Dead-lettered events go to the stream [DefaultDeadLetterStream] (CRM_DEADLETTER, subjects
// "dlq.>", created on first use). The subject is dlq.<runner name>.<original subject>, the body
// is the original message body, and the Crm-Dlq-* headers (see [HeaderDLQReason] and the rest)
// name the original stream, subject, sequence, consumer, deliveries, cause and reason. Nothing
// under "crm.>" is used, so no event stream ever captures a dead letter.
//
// # Observability
//
// [Runner.Lag] reports, per stream, how many events are not yet applied and how old the oldest
// of them is; [Metrics] exposes processed and dead-lettered counts, handler failures, batch
// durations and lag to Prometheus; [Runner.Stats] gives the counts without Prometheus. Every
// batch runs in an OpenTelemetry consumer span linked to the producers' spans, whose W3C trace
// context arrives in the "traceparent" message header.
package projection
