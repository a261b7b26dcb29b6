package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/libs/uuid7"
	"github.com/evcrm/evcrm/services/leads/internal/ports/reactions"
)

// pipelineSide appends to CRM_PIPELINE what the pipeline service appends when it closes an
// opportunity, on crm.<tenant>.opportunity.<id>.<Event>.
type pipelineSide struct {
	store *eventstore.Store
	js    jetstream.JetStream
}

// startPipelineSide creates CRM_PIPELINE as the pipeline service would.
func startPipelineSide(t testing.TB, n *testkit.NATS) *pipelineSide {
	t.Helper()
	nc := n.Connect(t)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	require.NoError(t, eventstore.EnsureStreams(context.Background(), js, eventstore.StreamOptions{Replicas: 1}, eventstore.PipelineStream))
	store, err := eventstore.New(nc, eventstore.Options{})
	require.NoError(t, err)
	return &pipelineSide{store: store, js: js}
}

// append adds events to the opportunity and returns the stream sequence of the last.
func (p *pipelineSide) append(t testing.TB, tenant, oppID string, events ...eventstore.Event) uint64 {
	t.Helper()
	ref := eventstore.Ref{Tenant: tenant, Type: "opportunity", ID: oppID}
	var pos eventstore.Position
	if last, ok, err := p.store.Last(context.Background(), ref); err != nil {
		require.NoError(t, err)
	} else if ok {
		pos = last.Position()
	}
	ctx := eventstore.WithMetadata(context.Background(), eventstore.Metadata{CorrelationID: "corr-" + oppID,
		Actor: &eventsv1.Actor{Type: eventsv1.ActorType_ACTOR_TYPE_USER, Id: "closer-1"}})
	res, err := p.store.Append(ctx, ref, pos, events...)
	require.NoError(t, err)
	return res.Position.Sequence
}

// won is the OpportunityWon MarkOpportunityWon appends for a deal converted from leadID ("": a
// deal without a lead), dated at.
func won(leadID string, at time.Time) eventstore.Event {
	return eventstore.Event{OccurredAt: at, Payload: &pipelinev1.OpportunityWon{
		Amount: &commonv1.Money{CurrencyCode: "EUR", Units: 42000, Nanos: 500_000_000}, CloseDate: at.UTC().Format(time.DateOnly),
		FromStageId: "negotiation", DaysOpen: 12, Deal: &pipelinev1.Deal{PipelineId: "default", OwnerId: "rep-1", LeadId: leadID}}}
}

// redeliver publishes the stored event at seq again under a new message id with the same
// envelope, event id included: a retried append whose ack was lost, or a replay.
func (p *pipelineSide) redeliver(t *testing.T, seq uint64) uint64 {
	return redeliver(t, p.js, "CRM_PIPELINE", seq)
}

// handled waits until the reaction's consumer has acknowledged every event up to seq.
func (p *pipelineSide) handled(t testing.TB, seq uint64) {
	waitAcked(t, p.js, "CRM_PIPELINE", reactions.OpportunityWinsName, seq)
}

// wins returns the LeadOpportunityWon envelopes of CRM_LEADS, oldest first.
func (h *harness) wins(t *testing.T) []*eventsv1.Envelope {
	t.Helper()
	ctx := context.Background()
	s, err := h.js.Stream(ctx, "CRM_LEADS")
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	var out []*eventsv1.Envelope
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		raw, err := s.GetMsg(ctx, seq)
		require.NoError(t, err)
		if !strings.HasSuffix(raw.Subject, ".LeadOpportunityWon") {
			continue
		}
		var env eventsv1.Envelope
		require.NoError(t, proto.Unmarshal(raw.Data, &env))
		out = append(out, &env)
	}
	return out
}

func TestOpportunityWonIsRecordedOnTheLeadOnce(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	pipe := startPipelineSide(t, n)
	dataDir := t.TempDir()
	h := startService(t, n, harnessOptions{DataDir: dataDir})
	ctx := as(t, "acme", "rep-1")
	start := time.Now()

	// A converted lead (normally the one a deal names) and one that never converted.
	sql := sqlLead(t, h.client, "conv@example.com", leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED)
	conv, err := h.client.ConvertLead(ctx, &leadsv1.ConvertLeadRequest{LeadId: sql.GetId()})
	require.NoError(t, err)
	convID := sql.GetId()
	open, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead("open@example.com")})
	require.NoError(t, err)
	openID := open.GetLead().GetId()
	before := h.leadsStreamMsgs(t)

	wonAt := time.Date(2025, 3, 1, 15, 4, 5, 0, time.UTC)
	oppConv, oppOpen := uuid7.New(), uuid7.New()
	winConv := pipe.append(t, "acme", oppConv, won(convID, wonAt))
	pipe.append(t, "acme", oppOpen, won(openID, wonAt.Add(time.Hour)))
	pipe.append(t, "acme", uuid7.New(), won("", wonAt))               // no lead: nothing to record
	pipe.append(t, "acme", uuid7.New(), won("no-such-lead", wonAt))   // skipped, not retried
	last := pipe.append(t, "globex", uuid7.New(), won(convID, wonAt)) // another tenant's: no such lead there
	pipe.handled(t, last)

	wins := h.wins(t)
	require.Len(t, wins, 2, "one LeadOpportunityWon per won deal with a lead of this tenant")
	assert.Equal(t, before+2, h.leadsStreamMsgs(t))
	env := wins[0]
	assert.Equal(t, "crm.leads.v1.LeadOpportunityWon", env.GetEventType())
	assert.Equal(t, convID, env.GetAggregateId())
	assert.Equal(t, "acme", env.GetTenantId())
	payload, err := eventstore.DecodePayload(env)
	require.NoError(t, err)
	rec := payload.(*leadsv1.LeadOpportunityWon)
	assert.Equal(t, oppConv, rec.GetOpportunityId())
	assert.Equal(t, wonAt, rec.GetWonAt().AsTime(), "won_at is the win's business time")
	assert.True(t, proto.Equal(&commonv1.Money{CurrencyCode: "EUR", Units: 42000, Nanos: 500_000_000}, rec.GetAmount()))
	assert.Equal(t, "2025-03-01", rec.GetCloseDate())
	assert.False(t, env.GetOccurredAt().AsTime().Before(start),
		"without backfill the lead's event is dated when the reaction ran, like every reaction's")
	assert.Equal(t, "leads", env.GetActor().GetId())
	assert.Equal(t, "closer-1", env.GetActor().GetOnBehalfOf())
	assert.Equal(t, "corr-"+oppConv, env.GetCorrelationId())
	assert.Equal(t, reactions.OpportunityWonKey(eventID(t, pipe, winConv)), env.GetCausationId(),
		"the causation names the pipeline event")
	assert.Equal(t, openID, wins[1].GetAggregateId(), "a lead that never converted records the win too")

	// The lead's timeline shows the win; the converted lead stays converted.
	seq := max(conv.GetResult().GetSequence(), lastLeadSeq(t, h))
	tl, err := h.activities.GetTimeline(ctx, &leadsv1.GetTimelineRequest{Record: leadRef(convID),
		Read: &commonv1.ReadOptions{MinSequence: seq}})
	require.NoError(t, err)
	require.NotEmpty(t, tl.GetEntries())
	assert.Equal(t, "Opportunity "+oppConv+" won, closed 2025-03-01", tl.GetEntries()[0].GetSummary())
	got, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: convID, Read: &commonv1.ReadOptions{MinSequence: seq}})
	require.NoError(t, err)
	assert.Equal(t, leadsv1.LeadStatus_LEAD_STATUS_CONVERTED, got.GetLead().GetStatus())

	// The same win redelivered (same event id), and the deal reopened and won again (a new
	// event): the funnel counts the first win, so neither appends anything.
	msgs := h.leadsStreamMsgs(t)
	pipe.handled(t, pipe.redeliver(t, winConv))
	last = pipe.append(t, "acme", oppConv,
		eventstore.Event{Payload: &pipelinev1.OpportunityReopened{StageId: "negotiation",
			PreviousStatus: pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_WON}},
		won(convID, wonAt.Add(48*time.Hour)))
	pipe.handled(t, last)
	assert.Equal(t, msgs, h.leadsStreamMsgs(t), "a redelivered win and a second win append nothing")

	// A replay from the start of the stream (the consumer recreated) appends nothing either.
	h.stop()
	require.NoError(t, pipe.js.DeleteConsumer(context.Background(), "CRM_PIPELINE", reactions.OpportunityWinsName))
	h = startService(t, n, harnessOptions{DataDir: dataDir})
	pipe.handled(t, last)
	assert.Equal(t, msgs, h.leadsStreamMsgs(t), "a replay appends nothing")
}

func TestOpportunityWonIsDatedAtTheWinWhenBackfillIsAllowed(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	pipe := startPipelineSide(t, n)
	h := startService(t, n, harnessOptions{AllowBackfill: true})
	ctx := as(t, "acme", "rep-1")
	created, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead("ada@example.com")})
	require.NoError(t, err)

	wonAt := time.Now().Add(-30 * 24 * time.Hour).UTC().Truncate(time.Millisecond)
	pipe.handled(t, pipe.append(t, "acme", uuid7.New(), won(created.GetLead().GetId(), wonAt)))
	wins := h.wins(t)
	require.Len(t, wins, 1)
	assert.Equal(t, wonAt, wins[0].GetOccurredAt().AsTime(), "the lead's event lands at the win in its history")
	assert.True(t, wins[0].GetRecordedAt().AsTime().After(wonAt), "recorded_at stays the wall clock")
}

// eventID is the event id of the pipeline event stored at seq.
func eventID(t *testing.T, p *pipelineSide, seq uint64) string {
	t.Helper()
	s, err := p.js.Stream(context.Background(), "CRM_PIPELINE")
	require.NoError(t, err)
	raw, err := s.GetMsg(context.Background(), seq)
	require.NoError(t, err)
	var env eventsv1.Envelope
	require.NoError(t, proto.Unmarshal(raw.Data, &env))
	return env.GetEventId()
}

// lastLeadSeq is the last sequence of CRM_LEADS.
func lastLeadSeq(t *testing.T, h *harness) uint64 {
	t.Helper()
	s, err := h.js.Stream(context.Background(), "CRM_LEADS")
	require.NoError(t, err)
	info, err := s.Info(context.Background())
	require.NoError(t, err)
	return info.State.LastSeq
}
