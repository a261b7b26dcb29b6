package eventstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
)

func TestLastReturnsTheAggregatesNewestEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{})
	ctx := context.Background()
	ref := eventstore.Ref{Tenant: "acme", Type: "contact", ID: "C1"}

	_, ok, err := e.store.Last(ctx, ref)
	require.NoError(t, err)
	assert.False(t, ok, "no events yet")

	r1, err := e.store.Append(ctx, ref, eventstore.Position{}, ev(wrapperspb.String("created")))
	require.NoError(t, err)
	// Another aggregate whose id starts alike must not be mistaken for it.
	_, err = e.store.Append(ctx, eventstore.Ref{Tenant: "acme", Type: "contact", ID: "C10"}, eventstore.Position{}, ev(wrapperspb.String("other")))
	require.NoError(t, err)
	r2, err := e.store.Append(ctx, ref, r1.Position, ev(wrapperspb.Int64(2)))
	require.NoError(t, err)

	last, ok, err := e.store.Last(ctx, ref)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, r2.Position, last.Position())
	assert.Equal(t, "google.protobuf.Int64Value", last.Envelope.GetEventType())

	_, _, err = e.store.Last(ctx, eventstore.Ref{Tenant: "acme", Type: "contact", ID: "bad id"})
	assert.Equal(t, apperr.Invalid, apperr.KindOf(err))
}
