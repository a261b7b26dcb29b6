package leadview

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/eventstore"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/readmodel"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// createdEvent is LeadCreated of benchLead(i) at stream sequence i+1, stored at stored.
func createdEvent(t *testing.T, i int, stored time.Time) projection.Event {
	t.Helper()
	l := benchLead(i)
	payload, err := protomap.LeadCodec{}.Encode(lead.LeadCreated{Lead: l, At: l.CreatedAt})
	require.NoError(t, err)
	body, err := proto.Marshal(payload)
	require.NoError(t, err)
	typ := string(payload.ProtoReflect().Descriptor().FullName())
	ref := eventstore.Ref{Tenant: benchTenant, Type: "lead", ID: l.ID}
	return projection.Event{
		Envelope: &eventsv1.Envelope{
			EventId: l.ID, TenantId: ref.Tenant, AggregateType: ref.Type, AggregateId: ref.ID,
			AggregateVersion: 1, EventType: typ, OccurredAt: timestamppb.New(l.CreatedAt),
			RecordedAt: timestamppb.New(stored), Payload: body,
		},
		Subject: ref.Subject(eventstore.ShortType(typ)), Stream: Stream, Sequence: uint64(i + 1), Stored: stored,
	}
}

// Replaying history into an empty read model bulk loads it; the first batch of events stored
// moments ago ends the bulk load before it is applied, so its writers read their writes with
// every index (search included).
func TestHandleEndsBulkLoadWhenCaughtUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := readmodel.Open(ctx, "", readmodel.Options{ReadConns: 2, CacheKiB: 4096})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	view := New(store, protomap.LeadCodec{})

	var history []projection.Event
	for i := range 300 {
		history = append(history, createdEvent(t, i, time.Now().Add(-time.Hour)))
	}
	require.NoError(t, view.Handle(ctx, history))
	found, _, err := store.Search(ctx, readmodel.SearchQuery{Tenant: benchTenant, Query: benchLead(0).LastName})
	require.NoError(t, err)
	assert.Empty(t, found, "bulk loading: the search index comes at the end")

	require.NoError(t, view.Handle(ctx, []projection.Event{createdEvent(t, 300, time.Now())}))
	waitCtx, cancel := context.WithTimeout(ctx, time.Second) // shorter than the idle end
	defer cancel()
	require.NoError(t, view.WaitFor(waitCtx, 301))
	rows, _, err := view.Search(ctx, readmodel.SearchQuery{Tenant: benchTenant, Query: benchLead(300).Email, PageSize: 1000})
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	assert.Equal(t, benchLead(300).ID, rows[0].ID)
	all, _, err := view.List(ctx, readmodel.ListQuery{Tenant: benchTenant, PageSize: 1000})
	require.NoError(t, err)
	assert.Len(t, all, 301)
}
