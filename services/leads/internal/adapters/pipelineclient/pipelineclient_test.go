package pipelineclient_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/apperr"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/pipelineclient"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// pipeline is a stand-in PipelineService behind the platform's real gRPC stack (authentication
// from metadata, error mapping): it records what arrived and answers with err when set. The
// end-to-end tests in internal/service run the real pipeline binary.
type pipeline struct {
	pipelinev1.UnimplementedPipelineServiceServer
	mu     sync.Mutex
	got    *pipelinev1.CreateOpportunityRequest
	tenant string
	actor  string
	err    error
	delay  time.Duration
}

func (p *pipeline) CreateOpportunity(ctx context.Context, req *pipelinev1.CreateOpportunityRequest) (*pipelinev1.CreateOpportunityResponse, error) {
	p.mu.Lock()
	p.got = req
	p.tenant, _ = reqctx.Tenant(ctx)
	p.actor = reqctx.ActorFrom(ctx).ID
	err, delay := p.err, p.delay
	p.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	return &pipelinev1.CreateOpportunityResponse{Opportunity: &pipelinev1.Opportunity{Id: req.GetOpportunityId()}}, nil
}

func startPipeline(t *testing.T) (*pipeline, *testkit.GRPC, *pipelineclient.Client) {
	t.Helper()
	p := &pipeline{}
	g := testkit.StartGRPC(t, func(s *grpcserver.Server) { pipelinev1.RegisterPipelineServiceServer(s, p) })
	c, err := pipelineclient.Dial(g.Conn.Target())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return p, g, c
}

func opportunity() app.NewOpportunity {
	return app.NewOpportunity{ID: "op-1", IdempotencyKey: "lead-conversion/l-1", Name: "Acme - new business",
		AccountID: "ac-1", ContactID: "ct-1", LeadID: "l-1", OwnerID: "rep-2",
		Amount: lead.Money{Currency: "EUR", Units: 5000, Nanos: 500_000_000}, ExpectedCloseDate: "2026-09-30",
		PipelineID: "default", StageID: "qualify", Source: lead.SourceEvent, CampaignID: "camp-1"}
}

func TestCreateForwardsIdentityAndMapsTheRequest(t *testing.T) {
	t.Parallel()
	p, _, c := startPipeline(t)
	// The context carries another user (e.g. a service principal); the explicit actor wins.
	ctx := reqctx.WithActor(context.Background(), reqctx.Actor{Type: reqctx.ActorUser, ID: "someone-else"})
	id, err := c.Create(ctx, "acme", "rep-1", opportunity())
	require.NoError(t, err)
	assert.Equal(t, "op-1", id)

	p.mu.Lock()
	defer p.mu.Unlock()
	assert.Equal(t, "acme", p.tenant)
	assert.Equal(t, "rep-1", p.actor)
	want := &pipelinev1.CreateOpportunityRequest{
		OpportunityId: "op-1",
		Opportunity: &pipelinev1.Opportunity{Name: "Acme - new business", AccountId: "ac-1", PrimaryContactId: "ct-1",
			LeadId: "l-1", OwnerId: "rep-2", PipelineId: "default", StageId: "qualify", ExpectedCloseDate: "2026-09-30",
			Source: pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_EVENT, PrimaryCampaignId: "camp-1",
			Amount: pipelineclient.Request(opportunity()).GetOpportunity().GetAmount(),
			ContactRoles: []*pipelinev1.OpportunityContactRole{{ContactId: "ct-1",
				Role: pipelinev1.ContactRole_CONTACT_ROLE_OTHER, IsPrimary: true}}},
	}
	want.Options = pipelineclient.Request(opportunity()).GetOptions()
	assert.True(t, proto.Equal(want, p.got), "got %v", p.got)
	assert.Equal(t, "lead-conversion/l-1", p.got.GetOptions().GetIdempotencyKey())
	assert.Equal(t, "EUR", p.got.GetOpportunity().GetAmount().GetCurrencyCode())
	assert.EqualValues(t, 500_000_000, p.got.GetOpportunity().GetAmount().GetNanos())
}

func TestRequestLeavesUnknownAmountUnset(t *testing.T) {
	t.Parallel()
	o := opportunity()
	o.Amount, o.ContactID = lead.Money{}, ""
	r := pipelineclient.Request(o)
	assert.Nil(t, r.GetOpportunity().GetAmount(), "pipeline applies its default currency")
	assert.Empty(t, r.GetOpportunity().GetContactRoles())
}

func TestCreateMapsErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		err        error
		kind       apperr.Kind
		fields     []string
		existingID string
	}{
		{name: "field violations are named as ConvertLeadRequest names them",
			err: apperr.InvalidFields("invalid opportunity",
				apperr.FieldViolation{Field: "opportunity.expected_close_date", Description: "too far in the past"},
				apperr.FieldViolation{Field: "opportunity.owner_id", Description: "bad"},
				apperr.FieldViolation{Field: "opportunity_id", Description: "bad"}),
			kind: apperr.Invalid, fields: []string{"opportunity.expected_close_date", "owner_id", "opportunity.opportunity_id"}},
		{name: "existing id", err: apperr.Exists("an opportunity with this id exists", "op-1"),
			kind: apperr.AlreadyExists, existingID: "op-1"},
		{name: "archived pipeline", err: apperr.Precondition("PIPELINE_ARCHIVED", "archived"), kind: apperr.FailedPrecondition},
		{name: "key in use", err: &apperr.Error{Kind: apperr.Conflict, Reason: "IDEMPOTENCY_KEY_IN_USE", Message: "retry"},
			kind: apperr.Conflict},
		{name: "pipeline's own outage", err: apperr.New(apperr.Unavailable, "nats down"), kind: apperr.Unavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, _, c := startPipeline(t)
			p.err = tc.err
			_, err := c.Create(context.Background(), "acme", "rep-1", opportunity())
			e, ok := apperr.As(err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, tc.kind, e.Kind, "%v", err)
			var fields []string
			for _, f := range e.Fields {
				fields = append(fields, f.Field)
			}
			assert.Equal(t, tc.fields, fields)
			assert.Equal(t, tc.existingID, e.ExistingID)
		})
	}
}

func TestCreateIsUnavailableWhenPipelineIsDown(t *testing.T) {
	t.Parallel()
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	c, err := pipelineclient.Dial(addr)
	require.NoError(t, err, "connecting is lazy: a pipeline down at start is no error")
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.Create(context.Background(), "acme", "rep-1", opportunity())
	assert.Equal(t, apperr.Unavailable, apperr.KindOf(err), "%v", err)

	// A server that stops between calls.
	_, g, c2 := startPipeline(t)
	_, err = c2.Create(context.Background(), "acme", "rep-1", opportunity())
	require.NoError(t, err)
	g.Stop()
	_, err = c2.Create(context.Background(), "acme", "rep-1", opportunity())
	assert.Equal(t, apperr.Unavailable, apperr.KindOf(err), "%v", err)
}

func TestCreateIsUnavailableWhenPipelineDoesNotAnswer(t *testing.T) {
	t.Parallel()
	p, _, c := startPipeline(t)
	p.delay = 5 * time.Second
	_, err := c.WithTimeout(100*time.Millisecond).Create(context.Background(), "acme", "rep-1", opportunity())
	assert.Equal(t, apperr.Unavailable, apperr.KindOf(err), "%v", err)
}
