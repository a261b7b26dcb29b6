package projection

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/apperr"
)

// Coverage answers read-your-writes waits for a read model built from some of a stream's
// subjects. Such a view applies only the events of its subjects, so its checkpoint never
// reaches the sequence of an event on another subject: a client that writes a lead and then
// reads the accounts view with the lead's sequence would wait until its deadline. Coverage
// asks the stream which events of the view's subjects lie at or below the sequence waited
// for and waits only for those.
type Coverage struct {
	js      jetstream.JetStream
	name    string
	filters []string

	mu     sync.Mutex
	stream jetstream.Stream
}

// NewCoverage returns the coverage of the view over stream built from filters (subject
// filters with wildcards, as in Source.FilterSubjects).
func NewCoverage(js jetstream.JetStream, stream string, filters []string) *Coverage {
	return &Coverage{js: js, name: stream, filters: filters}
}

func (c *Coverage) handle(ctx context.Context) (jetstream.Stream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stream != nil {
		return c.stream, nil
	}
	st, err := c.js.Stream(ctx, c.name)
	if err != nil {
		return nil, fmt.Errorf("projection: stream %s: %w", c.name, err)
	}
	c.stream = st
	return st, nil
}

// Next returns the sequence of the first event on the view's subjects in [from, upTo], or 0
// when there is none. It costs one message lookup per filter.
func (c *Coverage) Next(ctx context.Context, from, upTo uint64) (uint64, error) {
	if from > upTo {
		return 0, nil
	}
	st, err := c.handle(ctx)
	if err != nil {
		return 0, err
	}
	var next uint64
	for _, f := range c.filters {
		m, err := st.GetMsg(ctx, from, jetstream.WithGetMsgSubject(f))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("projection: next event of %s on %s: %w", c.name, f, err)
		}
		if m.Sequence <= upTo && (next == 0 || m.Sequence < next) {
			next = m.Sequence
		}
	}
	return next, nil
}

// Wait returns once the view has applied every event of its subjects up to sequence seq.
// applied reports the view's checkpoint; wait blocks until the checkpoint reaches a sequence
// (both are usually the read model's own, e.g. sqlitemodel.DB.Applied and WaitFor).
func (c *Coverage) Wait(ctx context.Context, seq uint64, applied func() uint64, wait func(context.Context, uint64) error) error {
	for {
		ck := applied()
		if ck >= seq {
			return nil
		}
		next, err := c.Next(ctx, ck+1, seq)
		if err != nil {
			return err
		}
		if next == 0 {
			return nil
		}
		if err := wait(ctx, next); err != nil {
			return err
		}
	}
}

// Checkpoints is a read model's position in the streams it is built from.
type Checkpoints interface {
	// Applied returns the last sequence of stream whose effects are stored.
	Applied(stream string) uint64
	// WaitFor returns once Applied(stream) has reached seq.
	WaitFor(ctx context.Context, stream string, seq uint64) error
}

// WaitFor is Wait on the checkpoint cp keeps of the coverage's stream.
func (c *Coverage) WaitFor(ctx context.Context, cp Checkpoints, seq uint64) error {
	return c.Wait(ctx, seq,
		func() uint64 { return cp.Applied(c.name) },
		func(ctx context.Context, s uint64) error { return cp.WaitFor(ctx, c.name, s) })
}

// ReadWaiter is a view's read-your-writes wait: embed it in a view to give the view WaitFor
// (what a query with a minimum sequence calls) and Cover.
type ReadWaiter struct {
	cp     Checkpoints
	stream string
	cov    *Coverage
}

// NewReadWaiter returns the wait of a view over stream whose position cp keeps.
func NewReadWaiter(cp Checkpoints, stream string) ReadWaiter {
	return ReadWaiter{cp: cp, stream: stream}
}

// Cover makes WaitFor skip sequences of the stream's other subjects: without it, a read that
// waits for the sequence of an event the view does not follow (say, a write on another
// aggregate type) would wait until its deadline. c must describe the view's stream.
func (w *ReadWaiter) Cover(c *Coverage) { w.cov = c }

// WaitFor returns once the view has applied stream sequence seq (or every event of its
// subjects up to seq, when covered). When ctx ends first the error is Unavailable: the read
// model is behind, the request may be retried.
func (w *ReadWaiter) WaitFor(ctx context.Context, seq uint64) error {
	var err error
	if w.cov != nil {
		err = w.cov.WaitFor(ctx, w.cp, seq)
	} else {
		err = w.cp.WaitFor(ctx, w.stream, seq)
	}
	if err != nil && ctx.Err() != nil {
		return &apperr.Error{Kind: apperr.Unavailable, Message: "the read model has not caught up with the requested sequence yet", Err: err}
	}
	return err
}
