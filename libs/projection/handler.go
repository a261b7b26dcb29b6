package projection

import (
	"context"
	"fmt"
)

// Handler applies batches of events to a sink.
//
// Handle is never called concurrently by one Runner. All events of a batch come from one
// stream, in stream order, and the batch is never empty. Returning nil means every event of
// the batch is applied; returning an error means none of them may be considered applied (see
// the package documentation for redelivery, ordering and cancellation). To refuse single events
// for good, return [Poison] errors for them (joined with errors.Join when there are several).
type Handler interface {
	Handle(ctx context.Context, events []Event) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, events []Event) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, events []Event) error { return f(ctx, events) }

// Checkpointer is implemented by sinks that store their own position, as ordered consumers
// require.
//
// Checkpoint returns, per stream name, the sequence of the last event the sink has applied
// (missing or 0: none). The sink must write it in the same transaction as the data it
// describes, inside Handle, so that after a crash the two agree; the Runner resumes right after
// it and never reads it while Handle runs.
type Checkpointer interface {
	Checkpoint(ctx context.Context) (map[string]uint64, error)
}

// CheckpointHandler is a Handler that keeps its own checkpoint.
type CheckpointHandler interface {
	Handler
	Checkpointer
}

// PoisonError is a handler's verdict that one event can never be applied (a payload that
// violates an invariant, a type it cannot upcast). The Runner dead-letters the event with the
// reason instead of retrying it. Create it with [Poison].
type PoisonError struct {
	// Stream and Sequence identify the event.
	Stream   string
	Sequence uint64
	// Reason says why, for whoever reads the dead-letter stream.
	Reason string
}

// Poison reports evt as permanently unprocessable for reason. Return it from Handle (joined
// with errors.Join to report several events); the other events of the batch are offered again
// at once, without backoff and without evt.
func Poison(evt Event, reason string) error {
	return &PoisonError{Stream: evt.Stream, Sequence: evt.Sequence, Reason: reason}
}

// Error implements error.
func (e *PoisonError) Error() string {
	return fmt.Sprintf("projection: poison event %s/%d: %s", e.Stream, e.Sequence, e.Reason)
}

// poisonReasons collects every PoisonError in err's tree (errors.As would stop at the first)
// that names an event of ds, keyed by sequence.
func poisonReasons(err error, ds []*delivery) map[uint64]string {
	in := make(map[uint64]bool, len(ds))
	stream := ""
	for _, d := range ds {
		in[d.Sequence] = true
		stream = d.Stream
	}
	out := map[uint64]string{}
	var walk func(error)
	walk = func(err error) {
		if pe, ok := err.(*PoisonError); ok {
			if pe.Stream == stream && in[pe.Sequence] {
				out[pe.Sequence] = pe.Reason
			}
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			if e := u.Unwrap(); e != nil {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}
