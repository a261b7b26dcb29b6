package reactions_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/apperr"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/ports/reactions"
)

// winCall is one RecordOpportunityWon the fake received.
type winCall struct {
	Tenant, LeadID, Key string
	Cmd                 lead.OpportunityWin
	Backfill            time.Time
}

// fakeWins records commands and answers with err. The end-to-end tests in internal/service run
// the reaction against the real app; this one pins the routing of failures.
type fakeWins struct {
	calls []winCall
	err   error
}

func (f *fakeWins) RecordOpportunityWon(ctx context.Context, tenant, id string, cmd lead.OpportunityWin, w app.Write) (app.LeadResult, error) {
	bf, _ := reqctx.Backfill(ctx)
	f.calls = append(f.calls, winCall{Tenant: tenant, LeadID: id, Key: w.IdempotencyKey, Cmd: cmd, Backfill: bf})
	return app.LeadResult{}, f.err
}

func wonEvent(t *testing.T, leadID string, at time.Time) projection.Event {
	t.Helper()
	payload, err := proto.Marshal(&pipelinev1.OpportunityWon{Amount: &commonv1.Money{CurrencyCode: "EUR", Units: 7},
		CloseDate: "2025-03-01", Deal: &pipelinev1.Deal{LeadId: leadID}})
	require.NoError(t, err)
	return projection.Event{Stream: "CRM_PIPELINE", Sequence: 1, Stored: at.Add(time.Second),
		Envelope: &eventsv1.Envelope{EventId: "evt-1", TenantId: "acme", AggregateType: "opportunity", AggregateId: "opp-1",
			EventType: "crm.pipeline.v1.OpportunityWon", OccurredAt: timestamppb.New(at), Payload: payload}}
}

func TestOpportunityWins(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		leadID     string
		backfill   bool
		err        error
		calls      int
		wantErr    bool
		wantPoison bool
	}{
		{name: "recorded", leadID: "lead-1", calls: 1},
		{name: "backfilled", leadID: "lead-1", backfill: true, calls: 1},
		{name: "no lead on the deal", leadID: "", calls: 0},
		{name: "no such lead: skipped", leadID: "lead-1", err: apperr.NotFoundf("lead", "lead-1"), calls: 1},
		{name: "refused as invalid: dead-lettered", leadID: "lead-1", err: apperr.InvalidFields("bad",
			apperr.FieldViolation{Field: "close_date", Description: "x"}), calls: 1, wantErr: true, wantPoison: true},
		{name: "transient: retried", leadID: "lead-1", err: errors.New("nats: timeout"), calls: 1, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeWins{err: tc.err}
			h := reactions.NewOpportunityWins(f, nil, reactions.WinOptions{Backfill: tc.backfill})
			err := h.Handle(context.Background(), []projection.Event{wonEvent(t, tc.leadID, at)})
			assert.Equal(t, tc.wantErr, err != nil, "%v", err)
			var poison *projection.PoisonError
			assert.Equal(t, tc.wantPoison, errors.As(err, &poison), "%v", err)
			require.Len(t, f.calls, tc.calls)
			if tc.calls == 0 {
				return
			}
			c := f.calls[0]
			assert.Equal(t, winCall{Tenant: "acme", LeadID: "lead-1", Key: "opportunity-won:evt-1",
				Cmd: lead.OpportunityWin{OpportunityID: "opp-1", WonAt: at, Amount: lead.Money{Currency: "EUR", Units: 7},
					CloseDate: "2025-03-01"}, Backfill: c.Backfill}, c)
			if tc.backfill {
				assert.Equal(t, at, c.Backfill, "dated at the win")
			} else {
				assert.True(t, c.Backfill.IsZero(), "no backfill unless the service allows it")
			}
		})
	}

	t.Run("undecodable payload is dead-lettered", func(t *testing.T) {
		t.Parallel()
		e := wonEvent(t, "lead-1", at)
		e.Envelope.Payload = []byte{0xff}
		f := &fakeWins{}
		err := reactions.NewOpportunityWins(f, nil, reactions.WinOptions{}).Handle(context.Background(), []projection.Event{e})
		var poison *projection.PoisonError
		assert.True(t, errors.As(err, &poison), "%v", err)
		assert.Empty(t, f.calls)
	})
}
