// Package eventstore keeps evcrm's aggregates in NATS JetStream, the system of record
// (DESIGN.md §3). Each event is one message on crm.<tenant>.<type>.<id>.<EventType> whose body is
// a crm.events.v1.Envelope. Appends are optimistic-concurrency checked against the aggregate's
// subject, atomic when a command yields several events, and idempotent.
package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/evcrm/evcrm/libs/uuid7"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/apperr"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/libs/platform/natstrace"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// Header names set on every event message besides the JetStream ones. They let consumers route
// and trace without decoding the envelope.
const (
	HeaderEventType        = "Crm-Event-Type"
	HeaderAggregateVersion = "Crm-Aggregate-Version"
	HeaderCorrelationID    = "Crm-Correlation-Id"
	HeaderCausationID      = "Crm-Causation-Id"
)

// JetStream error codes the store acts on (nats-server 2.15).
const (
	errCodeWrongLastSequence         = 10071
	errCodeWrongLastSequenceConstant = 10164
	errCodeExpectedSeqNotReady       = 10163
	errCodeBatchIncomplete           = 10176
	errCodeBatchDuplicateMsgID       = 10201
	errCodeBatchTooManyInflight      = 10210
)

// ErrConcurrency means another writer appended to the aggregate since the expected position was
// read. Reload and decide again. It is an apperr.Conflict (gRPC Aborted).
var ErrConcurrency = &apperr.Error{Kind: apperr.Conflict, Reason: "CONCURRENT_MODIFICATION",
	Message: "the record was changed concurrently; reload and retry"}

// MaxBatch is the most events one append may carry (the server's atomic batch limit).
const MaxBatch = 1000

// Options tune a Store.
type Options struct {
	// Streams the store writes to; DefaultStreams when empty.
	Streams []StreamSpec
	// Timeout bounds one publish round trip when ctx has no earlier deadline. Default 5s.
	Timeout time.Duration
	// Attempts bounds retries of transient JetStream answers (no responders during a leader
	// election, 10163, incomplete or too many in-flight batches). Default 8.
	Attempts int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// PersonalData, when set, seals the personal fields of appended events and opens them in
	// the events Load and ReadAfter return. Nil appends and returns payloads as they are.
	PersonalData PersonalData
}

// Store appends and loads aggregate events.
type Store struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	opts    Options
	streams map[string]string // aggregate type → stream name

	mu      sync.Mutex
	handles map[string]jetstream.Stream
}

// New returns a Store on nc. The streams must exist (EnsureStreams).
func New(nc *nats.Conn, opts Options) (*Store, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("eventstore: %w", err)
	}
	if len(opts.Streams) == 0 {
		opts.Streams = DefaultStreams()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 8
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{nc: nc, js: js, opts: opts, streams: map[string]string{}, handles: map[string]jetstream.Stream{}}
	for _, spec := range opts.Streams {
		for _, t := range spec.AggregateTypes {
			s.streams[t] = spec.Name
		}
	}
	return s, nil
}

// JetStream is the JetStream context the store uses.
func (s *Store) JetStream() jetstream.JetStream { return s.js }

// StreamOf names the stream that holds aggregates of type t.
func (s *Store) StreamOf(t string) (string, error) {
	name, ok := s.streams[t]
	if !ok {
		return "", fmt.Errorf("eventstore: no stream holds aggregate type %q", t)
	}
	return name, nil
}

func (s *Store) stream(ctx context.Context, t string) (jetstream.Stream, error) {
	name, err := s.StreamOf(t)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	h, ok := s.handles[name]
	s.mu.Unlock()
	if ok {
		return h, nil
	}
	h, err = s.js.Stream(ctx, name)
	if err != nil {
		return nil, unavailable(fmt.Errorf("eventstore: stream %s: %w", name, err))
	}
	s.mu.Lock()
	s.handles[name] = h
	s.mu.Unlock()
	return h, nil
}

// AppendResult tells where an append left the aggregate.
type AppendResult struct {
	// Position after the last appended event.
	Position Position
	// FirstSequence is the stream sequence of the first appended event.
	FirstSequence uint64
	// EventIDs of the appended events, in order.
	EventIDs []string
	// Duplicate is true when these events had been appended before (a retry); the result is the
	// original one.
	Duplicate bool
}

// Append writes events to the aggregate ref, which must stand at expected: all of them or none
// (one atomic batch). Event ids are generated where empty; actor, correlation and causation come
// from MetadataFrom(ctx); the trace context travels in the message headers.
//
// It returns ErrConcurrency when the aggregate has moved past expected, and success with the
// original result (Duplicate set) when the same events (by id) were appended already, whether
// JetStream reports a duplicate or a sequence conflict.
func (s *Store) Append(ctx context.Context, ref Ref, expected Position, events ...Event) (AppendResult, error) {
	if err := ref.Validate(); err != nil {
		return AppendResult{}, err
	}
	if len(events) == 0 {
		return AppendResult{}, errors.New("eventstore: append of no events")
	}
	if len(events) > MaxBatch {
		return AppendResult{}, fmt.Errorf("eventstore: %d events exceed the batch limit of %d", len(events), MaxBatch)
	}
	for i, ev := range events {
		if ev.Payload == nil {
			return AppendResult{}, fmt.Errorf("eventstore: event %d has no payload", i)
		}
	}
	streamName, err := s.StreamOf(ref.Type)
	if err != nil {
		return AppendResult{}, err
	}
	ctx, span := natstrace.StartSend(ctx, ref.Subject(ShortType(string(events[0].Payload.ProtoReflect().Descriptor().FullName()))),
		attribute.String("messaging.destination.template", streamName),
		attribute.Int("messaging.batch.message_count", len(events)),
		attribute.String("crm.aggregate", ref.String()))
	defer span.End()

	msgs, ids, err := s.encode(ctx, ref, expected, events)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "encode")
		return AppendResult{}, err
	}
	start := time.Now()
	res, err := s.publish(ctx, ref, expected, msgs, ids)
	observeAppend(streamName, start, res, err)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "append")
		return AppendResult{}, err
	}
	span.SetAttributes(attribute.Int64("crm.stream_sequence", int64(res.Position.Sequence)), attribute.Bool("crm.duplicate", res.Duplicate))
	return res, nil
}

func (s *Store) encode(ctx context.Context, ref Ref, expected Position, events []Event) ([]*nats.Msg, []string, error) {
	meta := MetadataFrom(ctx)
	// recorded_at is always the wall clock; occurred_at defaults to the request's business clock,
	// which is the backfill time of a backfilled request (demo data, imports of history).
	now := s.opts.Now()
	occurredDefault := reqctx.Now(ctx, s.opts.Now)
	msgs := make([]*nats.Msg, len(events))
	ids := make([]string, len(events))
	for i, ev := range events {
		if ev.Payload == nil {
			return nil, nil, fmt.Errorf("eventstore: event %d has no payload", i)
		}
		id := ev.ID
		if id == "" {
			id = uuid7.New()
		}
		payload, err := proto.MarshalOptions{Deterministic: true}.Marshal(ev.Payload)
		if err != nil {
			return nil, nil, fmt.Errorf("eventstore: marshal %T: %w", ev.Payload, err)
		}
		occurred := ev.OccurredAt
		if occurred.IsZero() {
			occurred = occurredDefault
		}
		typ := string(ev.Payload.ProtoReflect().Descriptor().FullName())
		version := expected.Version + uint64(i) + 1
		env := &eventsv1.Envelope{
			EventId:          id,
			TenantId:         ref.Tenant,
			AggregateType:    ref.Type,
			AggregateId:      ref.ID,
			AggregateVersion: version,
			EventType:        typ,
			OccurredAt:       timestamppb.New(occurred),
			RecordedAt:       timestamppb.New(now),
			Actor:            meta.Actor,
			CorrelationId:    meta.CorrelationID,
			CausationId:      meta.CausationID,
			Payload:          payload,
			SchemaVersion:    ev.SchemaVersion,
		}
		if s.opts.PersonalData != nil {
			if err := s.opts.PersonalData.Seal(ctx, env, ev.Payload); err != nil {
				return nil, nil, err
			}
		}
		body, err := proto.Marshal(env)
		if err != nil {
			return nil, nil, fmt.Errorf("eventstore: marshal envelope: %w", err)
		}
		m := nats.NewMsg(ref.Subject(ShortType(typ)))
		m.Data = body
		m.Header.Set(jetstream.MsgIDHeader, id)
		m.Header.Set(HeaderEventType, typ)
		m.Header.Set(HeaderAggregateVersion, strconv.FormatUint(version, 10))
		if meta.CorrelationID != "" {
			m.Header.Set(HeaderCorrelationID, meta.CorrelationID)
		}
		if meta.CausationID != "" {
			m.Header.Set(HeaderCausationID, meta.CausationID)
		}
		natstrace.InjectNATS(ctx, m.Header)
		msgs[i], ids[i] = m, id
	}
	// The concurrency check rides on the first message: the whole batch lands only if the
	// aggregate's last event is still the one the decision was made on.
	msgs[0].Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(expected.Sequence, 10))
	msgs[0].Header.Set(headerExpectedLastSubjSeqSubject, ref.Filter())
	return msgs, ids, nil
}

// headerExpectedLastSubjSeqSubject makes the expected-sequence check apply to the aggregate's
// wildcard subject instead of the literal subject of the first event.
const headerExpectedLastSubjSeqSubject = "Nats-Expected-Last-Subject-Sequence-Subject"

// pubAck is the server's answer to a publish or a batch commit.
type pubAck struct {
	Stream    string `json:"stream"`
	Sequence  uint64 `json:"seq"`
	Duplicate bool   `json:"duplicate,omitempty"`
	BatchID   string `json:"batch,omitempty"`
	Count     int    `json:"count,omitempty"`
	Error     *struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error,omitempty"`
}

func (s *Store) publish(ctx context.Context, ref Ref, expected Position, msgs []*nats.Msg, ids []string) (AppendResult, error) {
	n := len(msgs)
	var lastErr error
	for attempt := range s.opts.Attempts {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return AppendResult{}, unavailable(fmt.Errorf("eventstore: append to %s: %w (last error: %v)", ref, err, lastErr))
			}
		}
		ack, err := s.send(ctx, msgs)
		if err != nil {
			// No answer: the append may or may not have landed. Retrying is safe because every
			// event carries its id (dedupe) and the same expected sequence (conflict check).
			lastErr = err
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if ack.Error == nil {
			res := AppendResult{
				Position:      Position{Version: expected.Version + uint64(n), Sequence: ack.Sequence},
				FirstSequence: ack.Sequence - uint64(n) + 1,
				EventIDs:      ids,
				Duplicate:     ack.Duplicate,
			}
			if ack.Duplicate && n > 1 {
				// A duplicate answer carries only the first stored message; read the rest back.
				return s.resolveOwn(ctx, ref, expected, ids)
			}
			return res, nil
		}
		switch ack.Error.ErrCode {
		case errCodeWrongLastSequence, errCodeWrongLastSequenceConstant, errCodeBatchDuplicateMsgID:
			// Either someone else won, or this is our own earlier attempt (the dedupe and sequence
			// checks run in a different order on clustered streams): look before reporting.
			return s.resolveOwn(ctx, ref, expected, ids)
		case errCodeExpectedSeqNotReady, errCodeBatchIncomplete, errCodeBatchTooManyInflight:
			lastErr = fmt.Errorf("jetstream %d: %s", ack.Error.ErrCode, ack.Error.Description)
			continue
		default:
			return AppendResult{}, fmt.Errorf("eventstore: append to %s: jetstream error %d: %s", ref, ack.Error.ErrCode, ack.Error.Description)
		}
	}
	return AppendResult{}, unavailable(fmt.Errorf("eventstore: append to %s gave up after %d attempts: %w", ref, s.opts.Attempts, lastErr))
}

// send publishes one event, or an atomic batch whose commit message carries the answer.
func (s *Store) send(ctx context.Context, msgs []*nats.Msg) (pubAck, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	last := msgs[len(msgs)-1]
	if len(msgs) > 1 {
		batchID := uuid7.New()
		for i, m := range msgs {
			m.Header.Set("Nats-Batch-Id", batchID)
			m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		}
		last.Header.Set("Nats-Batch-Commit", "1")
		// The messages before the commit need no answer: the server stages them, and the commit
		// either stores all or reports the batch incomplete.
		for _, m := range msgs[:len(msgs)-1] {
			if err := s.nc.PublishMsg(m); err != nil {
				return pubAck{}, err
			}
		}
	}
	resp, err := s.nc.RequestMsgWithContext(ctx, last)
	if err != nil {
		return pubAck{}, err
	}
	var ack pubAck
	if err := json.Unmarshal(resp.Data, &ack); err != nil {
		return pubAck{}, fmt.Errorf("eventstore: bad publish answer %q: %w", resp.Data, err)
	}
	return ack, nil
}

// resolveOwn decides what a conflicting or duplicate append means by reading what the aggregate
// holds after expected: if this append's events are there, it happened; otherwise it lost.
func (s *Store) resolveOwn(ctx context.Context, ref Ref, expected Position, ids []string) (AppendResult, error) {
	recs, _, err := s.ReadAfter(ctx, ref, expected)
	if err != nil {
		return AppendResult{}, err
	}
	first := -1
	for i, r := range recs {
		if r.Envelope.GetEventId() == ids[0] {
			first = i
			break
		}
	}
	if first < 0 {
		return AppendResult{}, fmt.Errorf("%w (aggregate %s is past version %d)", ErrConcurrency, ref, expected.Version)
	}
	if first+len(ids) > len(recs) {
		return AppendResult{}, fmt.Errorf("eventstore: %s holds only part of an atomic append starting at event %s", ref, ids[0])
	}
	for i, id := range ids {
		if recs[first+i].Envelope.GetEventId() != id {
			return AppendResult{}, fmt.Errorf("eventstore: %s holds event %s where %s was appended", ref, recs[first+i].Envelope.GetEventId(), id)
		}
	}
	last := recs[first+len(ids)-1]
	return AppendResult{Position: last.Position(), FirstSequence: recs[first].Sequence, EventIDs: ids, Duplicate: true}, nil
}

func (s *Store) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < s.opts.Timeout {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.opts.Timeout)
}

func unavailable(err error) error {
	return &apperr.Error{Kind: apperr.Unavailable, Message: "event store unavailable", Err: err}
}

func backoff(attempt int) time.Duration {
	d := 10 * time.Millisecond << min(attempt, 6)
	return min(d, 500*time.Millisecond)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
