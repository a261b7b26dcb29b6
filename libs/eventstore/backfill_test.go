package eventstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// A backfilled request dates its events in the past, but the store still records when it
// actually wrote them; an event's own OccurredAt wins over both.
func TestAppendBackfill(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{})
	past := time.Date(2026, 2, 14, 10, 0, 0, 0, time.UTC)
	own := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ctx := reqctx.WithBackfill(context.Background(), past)
	ref := eventstore.Ref{Tenant: "acme", Type: "lead", ID: "B1"}

	before := time.Now()
	_, err := e.store.Append(ctx, ref, eventstore.Position{},
		ev(wrapperspb.String("created")), eventstore.Event{Payload: wrapperspb.Int64(1), OccurredAt: own})
	require.NoError(t, err)

	recs, _, err := e.store.Load(context.Background(), ref)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, past, recs[0].Envelope.GetOccurredAt().AsTime())
	assert.Equal(t, own, recs[1].Envelope.GetOccurredAt().AsTime())
	for _, r := range recs {
		assert.WithinDuration(t, before, r.Envelope.GetRecordedAt().AsTime(), time.Minute, "recorded_at is the wall clock")
	}
}
