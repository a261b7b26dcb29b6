package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

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
		if err := s.open(ctx, []Recorded{rec}); err != nil {
			return nil, Position{}, err
		}
		return []Recorded{rec}, rec.Position(), nil
	}
	recs, err := s.consume(ctx, st.CachedInfo().Config.Name, ref, after.Sequence+1, last.Sequence)
	if err != nil {
		return nil, Position{}, err
	}
	if err := s.open(ctx, recs); err != nil {
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

// directBatchSize bounds one direct-get batch; the server also stops at directBatchBytes.
const (
	directBatchSize  = 1000
	directBatchBytes = 4 << 20
)

type directGetRequest struct {
	Seq      uint64 `json:"seq,omitempty"`
	NextFor  string `json:"next_by_subj,omitempty"`
	Batch    int    `json:"batch,omitempty"`
	MaxBytes int    `json:"max_bytes,omitempty"`
	UpToSeq  uint64 `json:"up_to_seq,omitempty"`
}

// consume reads the aggregate's events from sequence from up to at least upTo with batched
// direct gets: no consumer is created, so loads cost the server nothing to clean up, and each
// batch is read under the stream's read lock, consistent with appends. Events appended after
// upTo may be included (the server ignores up_to_seq for subject batches); they are contiguous
// and make the result only fresher.
func (s *Store) consume(ctx context.Context, stream string, ref Ref, from, upTo uint64) ([]Recorded, error) {
	var recs []Recorded
	for len(recs) == 0 || recs[len(recs)-1].Sequence < upTo {
		n, err := s.directBatch(ctx, stream, ref, from, upTo, &recs)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("eventstore: read %s: events up to sequence %d are missing", ref, upTo)
		}
		from = recs[len(recs)-1].Sequence + 1
	}
	return recs, nil
}

func (s *Store) directBatch(ctx context.Context, stream string, ref Ref, from, upTo uint64, recs *[]Recorded) (int, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	inbox := s.nc.NewRespInbox()
	sub, err := s.nc.SubscribeSync(inbox)
	if err != nil {
		return 0, unavailable(fmt.Errorf("eventstore: read %s: %w", ref, err))
	}
	defer func() { _ = sub.Unsubscribe() }()
	req, _ := json.Marshal(directGetRequest{Seq: from, NextFor: ref.Filter(), Batch: directBatchSize, MaxBytes: directBatchBytes, UpToSeq: upTo})
	if err := s.nc.PublishRequest("$JS.API.DIRECT.GET."+stream, inbox, req); err != nil {
		return 0, unavailable(fmt.Errorf("eventstore: read %s: %w", ref, err))
	}
	n := 0
	for {
		msg, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return 0, unavailable(fmt.Errorf("eventstore: read %s: %w", ref, err))
		}
		switch status := msg.Header.Get("Status"); status {
		case "":
		case "204": // end of batch
			return n, nil
		case "404":
			return n, nil
		default:
			return 0, unavailable(fmt.Errorf("eventstore: read %s: status %s %s", ref, status, msg.Header.Get("Description")))
		}
		seq, err := strconv.ParseUint(msg.Header.Get(jetstream.SequenceHeader), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("eventstore: read %s: bad sequence header: %w", ref, err)
		}
		stored, _ := time.Parse(time.RFC3339Nano, msg.Header.Get(jetstream.TimeStampHeaer))
		var env eventsv1.Envelope
		if err := proto.Unmarshal(msg.Data, &env); err != nil {
			return 0, corrupt(ref, seq, err)
		}
		rec := Recorded{Envelope: &env, Subject: msg.Header.Get(jetstream.SubjectHeader), Stream: stream, Sequence: seq, Stored: stored}
		if err := checkNext(*recs, rec); err != nil {
			return 0, err
		}
		*recs = append(*recs, rec)
		n++
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
