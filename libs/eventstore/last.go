package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Last returns the aggregate's most recent event, and false when the aggregate has none. It
// costs one direct get whatever the aggregate's history, so it suits existence checks on
// aggregates a caller does not fold (an activity logged against a contact needs the contact to
// exist, not its state).
func (s *Store) Last(ctx context.Context, ref Ref) (Recorded, bool, error) {
	if err := ref.Validate(); err != nil {
		return Recorded{}, false, err
	}
	st, err := s.stream(ctx, ref.Type)
	if err != nil {
		return Recorded{}, false, err
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	m, err := st.GetLastMsgForSubject(ctx, ref.Filter())
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Recorded{}, false, nil
	}
	if err != nil {
		return Recorded{}, false, unavailable(fmt.Errorf("eventstore: last event of %s: %w", ref, err))
	}
	rec, err := recordFromRaw(st.CachedInfo().Config.Name, m)
	if err != nil {
		return Recorded{}, false, err
	}
	return rec, true, nil
}
