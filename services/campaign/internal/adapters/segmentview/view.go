// Package segmentview is the segments read model: every segment of every tenant, kept in
// memory and rebuilt from the CRM_CAMPAIGN stream's segment subjects at each start (segments
// are few and small, so a replica's rebuild costs one pass over them). It is a
// projection.CheckpointHandler for an ordered consumer and answers ListSegments and the
// name-uniqueness look-up.
package segmentview

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/pagetoken"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/segment"
)

// Stream is the stream the view is built from.
const Stream = "CRM_CAMPAIGN"

// Subjects are the segment aggregate's subjects.
var Subjects = []string{"crm.*.segment.>"}

// View is the projector and the query side.
type View struct {
	projection.ReadWaiter
	codec eventstore.Codec[segment.Event]

	pos *position

	mu     sync.Mutex
	states map[string]map[string]segment.State // tenant → id → state
}

// position is the view's checkpoint (projection.Checkpoints), apart from View because View's
// WaitFor is the ReadWaiter's.
type position struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever applied moves
	applied uint64
}

// Applied implements projection.Checkpoints.
func (p *position) Applied(string) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.applied
}

// WaitFor implements projection.Checkpoints.
func (p *position) WaitFor(ctx context.Context, _ string, seq uint64) error {
	for {
		p.mu.Lock()
		applied, ch := p.applied, p.changed
		p.mu.Unlock()
		if applied >= seq {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (p *position) advance(seq uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.applied = seq
	close(p.changed)
	p.changed = make(chan struct{})
}

// New returns an empty view decoding with codec.
func New(codec eventstore.Codec[segment.Event]) *View {
	v := &View{codec: codec, pos: &position{changed: make(chan struct{})}, states: map[string]map[string]segment.State{}}
	v.ReadWaiter = projection.NewReadWaiter(v.pos, Stream)
	return v
}

// Checkpoint implements projection.Checkpointer. An in-memory view starts from the beginning.
func (v *View) Checkpoint(context.Context) (map[string]uint64, error) {
	return map[string]uint64{Stream: v.pos.Applied(Stream)}, nil
}

// Handle folds a batch. Events that do not decode are poison: the batch is then applied not
// at all (the runner offers the rest again without them), so nothing is folded twice.
func (v *View) Handle(_ context.Context, events []projection.Event) error {
	decoded := make([]segment.Event, len(events))
	var poison []error
	for i, e := range events {
		if e.Envelope.GetAggregateType() != segment.AggregateType {
			continue
		}
		ev, err := v.codec.Decode(eventstore.Recorded{Envelope: e.Envelope, Subject: e.Subject, Stream: e.Stream, Sequence: e.Sequence, Stored: e.Stored})
		if err != nil {
			poison = append(poison, projection.Poison(e, err.Error()))
		}
		decoded[i] = ev
	}
	if len(poison) > 0 {
		return errors.Join(poison...)
	}
	v.mu.Lock()
	for i, e := range events {
		if decoded[i] == nil {
			continue
		}
		t, id := e.Envelope.GetTenantId(), e.Envelope.GetAggregateId()
		if v.states[t] == nil {
			v.states[t] = map[string]segment.State{}
		}
		s := v.states[t][id]
		s.Segment.ID = id
		v.states[t][id] = segment.Apply(s, decoded[i])
	}
	v.mu.Unlock()
	v.pos.advance(events[len(events)-1].Sequence)
	return nil
}

// ByName returns the live segment of tenant named name (ignoring case), if any.
func (v *View) ByName(_ context.Context, tenant, name string) (segment.Segment, bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, s := range v.states[tenant] {
		if s.Exists() && strings.EqualFold(s.Segment.Name, name) {
			return s.Segment, true, nil
		}
	}
	return segment.Segment{}, false, nil
}

type cursor struct {
	Name string `json:"n"`
	ID   string `json:"i"`
}

// MaxPageSize bounds ListSegments.
const MaxPageSize = 1000

// List returns a page of the tenant's live segments by name (ignoring case), then id.
func (v *View) List(_ context.Context, tenant string, pageSize int, token string) ([]segment.Segment, string, error) {
	if pageSize == 0 {
		pageSize = 50
	}
	if pageSize < 0 || pageSize > MaxPageSize {
		return nil, "", apperr.InvalidFields("invalid list request", apperr.FieldViolation{Field: "page_size", Description: "1 to 1000 (0 for 50)"})
	}
	var after cursor
	ok, err := pagetoken.Decode(token, "segments", tenant, &after)
	if err != nil {
		return nil, "", apperr.InvalidFields("invalid list request", apperr.FieldViolation{Field: "page_token", Description: "not a token of this list"})
	}
	v.mu.Lock()
	var all []segment.Segment
	for _, s := range v.states[tenant] {
		if s.Exists() {
			all = append(all, s.Segment)
		}
	}
	v.mu.Unlock()
	key := func(g segment.Segment) cursor { return cursor{strings.ToLower(g.Name), g.ID} }
	less := func(a, b cursor) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	}
	slices.SortFunc(all, func(a, b segment.Segment) int { return less(key(a), key(b)) })
	if ok {
		i, _ := slices.BinarySearchFunc(all, after, func(g segment.Segment, c cursor) int { return less(key(g), c) })
		for i < len(all) && less(key(all[i]), after) <= 0 {
			i++
		}
		all = all[i:]
	}
	next := ""
	if len(all) > pageSize {
		all = all[:pageSize]
		next = pagetoken.Encode("segments", tenant, key(all[pageSize-1]))
	}
	return all, next, nil
}
