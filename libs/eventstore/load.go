package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/apperr"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
)

// Load reads every event of the aggregate in order and returns them with the aggregate's
// position. A missing aggregate yields no events and the zero Position.
func (s *Store) Load(ctx context.Context, ref Ref) ([]Recorded, Position, error) {
	return s.ReadAfter(ctx, ref, Position{})
}

// ReadAfter reads the aggregate's events that follow after (those with a greater stream
// sequence), so a cached aggregate catches up without re-reading its history. The returned
// Position is the aggregate's latest (after itself when nothing followed).
func (s *Store) ReadAfter(ctx context.Context, ref Ref, after Position) ([]Recorded, Position, error) {
	if err := ref.Validate(); err != nil {
		return nil, Position{}, err
	}
	st, err := s.stream(ctx, ref.Type)
	if err != nil {
		return nil, Position{}, err
	}
	// One direct get tells where the aggregate ends, so a new aggregate costs one round trip
	// and the consumer below knows when it has read everything.
	last, err := st.GetLastMsgForSubject(ctx, ref.Filter())
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		if after.Sequence > 0 {
			return nil, Position{}, fmt.Errorf("eventstore: %s has no events but was read at sequence %d", ref, after.Sequence)
		}
		return nil, Position{}, nil
	}
	if err != nil {
		return nil, Position{}, unavailable(fmt.Errorf("eventstore: last event of %s: %w", ref, err))
	}
	if last.Sequence <= after.Sequence {
		return nil, after, nil
	}
	if last.Sequence == after.Sequence+1 || s.onlyOne(last, after) {
		rec, err := recordFromRaw(st.CachedInfo().Config.Name, last)
		if err != nil {
			return nil, Position{}, err
		}
		return []Recorded{rec}, rec.Position(), nil
	}
	recs, err := s.consume(ctx, st.CachedInfo().Config.Name, ref, after.Sequence+1, last.Sequence)
	if err != nil {
		return nil, Position{}, err
	}
	return recs, recs[len(recs)-1].Position(), nil
}

// onlyOne reports whether the last event is the only one after the position: its version says
// how many events the aggregate has.
func (s *Store) onlyOne(last *jetstream.RawStreamMsg, after Position) bool {
	var env eventsv1.Envelope
	if err := proto.Unmarshal(last.Data, &env); err != nil {
		return false
	}
	return env.GetAggregateVersion() == after.Version+1
}

// consume reads the aggregate's events from sequence from up to and including upTo with an
// ordered consumer: flow-controlled, gap-detecting, and gone when done.
func (s *Store) consume(ctx context.Context, stream string, ref Ref, from, upTo uint64) ([]Recorded, error) {
	cons, err := s.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{ref.Filter()},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from,
	})
	if err != nil {
		return nil, unavailable(fmt.Errorf("eventstore: read %s: %w", ref, err))
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1000))
	if err != nil {
		return nil, unavailable(fmt.Errorf("eventstore: read %s: %w", ref, err))
	}
	defer it.Stop()
	// The iterator has no context; stop it when ctx ends so Next returns.
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()

	var recs []Recorded
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, unavailable(fmt.Errorf("eventstore: read %s: %w", ref, err))
		}
		md, err := msg.Metadata()
		if err != nil {
			return nil, fmt.Errorf("eventstore: read %s: %w", ref, err)
		}
		var env eventsv1.Envelope
		if err := proto.Unmarshal(msg.Data(), &env); err != nil {
			return nil, corrupt(ref, md.Sequence.Stream, err)
		}
		rec := Recorded{Envelope: &env, Subject: msg.Subject(), Stream: stream, Sequence: md.Sequence.Stream, Stored: md.Timestamp}
		if err := checkNext(recs, rec); err != nil {
			return nil, err
		}
		recs = append(recs, rec)
		if md.Sequence.Stream >= upTo {
			return recs, nil
		}
	}
}

// checkNext verifies that versions follow each other without gaps; a gap means the log was
// written around the store's concurrency check and folding it would build a wrong state.
func checkNext(recs []Recorded, next Recorded) error {
	if len(recs) == 0 {
		return nil
	}
	prev := recs[len(recs)-1].Envelope.GetAggregateVersion()
	if next.Envelope.GetAggregateVersion() != prev+1 {
		return &apperr.Error{Kind: apperr.Internal, Message: fmt.Sprintf(
			"eventstore: %s/%s/%s: version %d follows version %d at sequence %d",
			next.Envelope.GetTenantId(), next.Envelope.GetAggregateType(), next.Envelope.GetAggregateId(),
			next.Envelope.GetAggregateVersion(), prev, next.Sequence)}
	}
	return nil
}

func recordFromRaw(stream string, m *jetstream.RawStreamMsg) (Recorded, error) {
	var env eventsv1.Envelope
	if err := proto.Unmarshal(m.Data, &env); err != nil {
		return Recorded{}, fmt.Errorf("eventstore: event at %s sequence %d does not decode: %w", stream, m.Sequence, err)
	}
	return Recorded{Envelope: &env, Subject: m.Subject, Stream: stream, Sequence: m.Sequence, Stored: m.Time}, nil
}

func corrupt(ref Ref, seq uint64, err error) error {
	return fmt.Errorf("eventstore: event of %s at sequence %d does not decode: %w", ref, seq, err)
}
