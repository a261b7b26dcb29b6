package projection

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultDeadLetterStream is the stream dead letters go to unless Config.DeadLetterStream says
// otherwise.
const DefaultDeadLetterStream = "CRM_DEADLETTER"

// DeadLetterSubjectPrefix is the first subject token of every dead letter. The full subject is
// dlq.<runner name>.<original subject>, so one can subscribe to the dead letters of one
// projection (dlq.analytics.>) or of one tenant (dlq.*.crm.acme.>). It is deliberately not
// "crm": the event streams capture crm.*.<type>.> and must never capture a dead letter.
const DeadLetterSubjectPrefix = "dlq"

// Headers of a dead letter. Every one is set on every dead letter, except HeaderDLQEventID when
// the body did not decode. Headers of the original message are copied as well, apart from the
// server-interpreted Nats-* ones (an original Nats-Expected-Last-Subject-Sequence would make
// the dead-letter append fail).
const (
	// HeaderDLQReason is the human-readable reason (single line).
	HeaderDLQReason = "Crm-Dlq-Reason"
	// HeaderDLQCause is one of the Cause values.
	HeaderDLQCause = "Crm-Dlq-Cause"
	// HeaderDLQStream is the stream the event is stored in.
	HeaderDLQStream = "Crm-Dlq-Stream"
	// HeaderDLQSubject is the event's subject.
	HeaderDLQSubject = "Crm-Dlq-Subject"
	// HeaderDLQSequence is the event's stream sequence (decimal).
	HeaderDLQSequence = "Crm-Dlq-Sequence"
	// HeaderDLQConsumer is the Runner name that gave up on the event.
	HeaderDLQConsumer = "Crm-Dlq-Consumer"
	// HeaderDLQDeliveries is how many times the event was offered (decimal).
	HeaderDLQDeliveries = "Crm-Dlq-Deliveries"
	// HeaderDLQStored is when the event was stored in its stream (RFC 3339).
	HeaderDLQStored = "Crm-Dlq-Stored"
	// HeaderDLQEventID is the envelope's event_id, when the body decoded.
	HeaderDLQEventID = "Crm-Dlq-Event-Id"
)

// Cause classifies why an event was dead-lettered.
type Cause string

// Causes of dead letters.
const (
	// CauseUndecodable: the body is not a valid crm.events.v1.Envelope.
	CauseUndecodable Cause = "undecodable"
	// CausePoison: the handler declared the event poison with Poison.
	CausePoison Cause = "poison"
	// CauseMaxDeliveries: the event failed MaxDeliver times, or was delivered more often
	// than that without any attempt finishing (the process died on it).
	CauseMaxDeliveries Cause = "max_deliveries"
)

// maxReasonLen keeps a runaway error message from bloating every dead letter's headers.
const maxReasonLen = 2048

// dlqTimeout bounds one dead-letter append; it is detached from Run's context so an event
// condemned during shutdown still lands before the original is acked.
const dlqTimeout = 10 * time.Second

// ensureDeadLetterStream creates the dead-letter stream unless it exists. An existing stream
// is left as it is: operators may have created it with their own limits and placement.
func (r *Runner) ensureDeadLetterStream(ctx context.Context) error {
	_, err := r.js.Stream(ctx, r.cfg.DeadLetterStream)
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("projection: look up dead-letter stream: %w", err)
	}
	_, err = r.js.CreateStream(ctx, jetstream.StreamConfig{
		Name:        r.cfg.DeadLetterStream,
		Description: "evcrm events that projections gave up on; see libs/projection",
		Subjects:    []string{DeadLetterSubjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Replicas:    r.cfg.DeadLetterReplicas,
		// No limits: a dead letter stays until someone has dealt with it. Should an operator
		// add limits, DiscardNew refuses new dead letters (their originals then stay unacked
		// and are retried) instead of silently discarding old ones.
		Retention: jetstream.LimitsPolicy,
		Discard:   jetstream.DiscardNew,
	})
	if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("projection: create dead-letter stream: %w", err)
	}
	return nil
}

// deadLetter appends d to the dead-letter stream and then settles it (acks a durable delivery),
// so the event is never both gone from the consumer and missing from the dead letters. If the
// append fails, d is left unsettled and the caller retries it like a failed batch.
func (r *Runner) deadLetter(ctx context.Context, src source, d *delivery, cause Cause, reason string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dlqTimeout)
	defer cancel()

	msg := nats.NewMsg(DeadLetterSubjectPrefix + "." + r.cfg.Name + "." + d.Subject)
	for k, v := range d.Header {
		if !strings.HasPrefix(k, "Nats-") {
			msg.Header[k] = v
		}
	}
	msg.Header.Set(HeaderDLQReason, oneLine(reason))
	msg.Header.Set(HeaderDLQCause, string(cause))
	msg.Header.Set(HeaderDLQStream, d.Stream)
	msg.Header.Set(HeaderDLQSubject, d.Subject)
	msg.Header.Set(HeaderDLQSequence, strconv.FormatUint(d.Sequence, 10))
	msg.Header.Set(HeaderDLQConsumer, r.cfg.Name)
	msg.Header.Set(HeaderDLQDeliveries, strconv.FormatUint(d.Deliveries, 10))
	msg.Header.Set(HeaderDLQStored, d.Stored.UTC().Format(time.RFC3339Nano))
	if d.Envelope != nil {
		msg.Header.Set(HeaderDLQEventID, d.Envelope.GetEventId())
	}
	msg.Data = d.Data

	// The message id makes a repeat (the ack of the original was lost and it came back) a
	// no-op within the stream's duplicate window.
	id := fmt.Sprintf("%s:%s:%d", r.cfg.Name, d.Stream, d.Sequence)
	if _, err := r.js.PublishMsg(ctx, msg, jetstream.WithMsgID(id)); err != nil {
		return fmt.Errorf("projection: dead-letter %s/%d: %w", d.Stream, d.Sequence, err)
	}
	src.settle(ctx, []*delivery{d})

	r.stats.deadLettered.Add(1)
	r.metrics.deadLettered.WithLabelValues(r.cfg.Name, d.Stream, string(cause)).Inc()
	r.log.Warn("projection: event dead-lettered",
		"stream", d.Stream, "seq", d.Sequence, "subject", d.Subject,
		"deliveries", d.Deliveries, "cause", string(cause), "reason", reason)
	return nil
}

// oneLine makes s safe as a header value: NATS headers are MIME-style lines, so a newline in
// an error message would corrupt the message.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxReasonLen {
		s = s[:maxReasonLen]
	}
	return s
}
