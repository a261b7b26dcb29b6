package protomap_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/evcrm/evcrm/libs/customfield"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

func opportunityProto(t *testing.T) *pipelinev1.Opportunity {
	t.Helper()
	p, err := protomap.OpportunityToProto(fullOpportunity())
	require.NoError(t, err)
	return p
}

func TestNewOpportunityFromProto(t *testing.T) {
	t.Parallel()
	t.Run("settable fields only, overrides taken", func(t *testing.T) {
		t.Parallel()
		// Output-only fields (id, version, status, close, history, …) are set too: ignored.
		got, err := protomap.NewOpportunityFromProto(&pipelinev1.CreateOpportunityRequest{
			Opportunity: opportunityProto(t), OpportunityId: "opp-new"})
		require.NoError(t, err)
		o := fullOpportunity()
		assertSame(t, opportunity.NewOpportunity{ID: "opp-new", Details: fullDetails(), LeadID: o.LeadID, OwnerID: o.OwnerID,
			StageID: o.StageID, Amount: o.Amount, Probability: ptr(int32(35)), ForecastCategory: pipelinedef.CategoryCommit,
			ExpectedCloseDate: o.ExpectedCloseDate, ContactRoles: fullRoles()}, got)
	})
	t.Run("values without their override flag are not overrides", func(t *testing.T) {
		t.Parallel()
		p := opportunityProto(t)
		p.ProbabilityOverridden, p.ForecastCategoryOverridden = false, false
		p.ForecastCategory = 77 // not read, so not checked
		got, err := protomap.NewOpportunityFromProto(&pipelinev1.CreateOpportunityRequest{Opportunity: p})
		require.NoError(t, err)
		assert.Nil(t, got.Probability)
		assert.Equal(t, pipelinedef.CategoryUnspecified, got.ForecastCategory)
		assert.Empty(t, got.ID, "the app assigns one")
	})
	t.Run("a huge probability stays huge", func(t *testing.T) {
		t.Parallel()
		p := opportunityProto(t)
		p.Probability = math.MaxUint32
		got, err := protomap.NewOpportunityFromProto(&pipelinev1.CreateOpportunityRequest{Opportunity: p})
		require.NoError(t, err)
		assert.Equal(t, int32(math.MaxInt32), *got.Probability, "the domain's range check sees it")
	})
	t.Run("unset amount and empty lists", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.NewOpportunityFromProto(&pipelinev1.CreateOpportunityRequest{
			Opportunity: &pipelinev1.Opportunity{Name: "A", OwnerId: "o", ExpectedCloseDate: "2025-06-30"}})
		require.NoError(t, err)
		assert.Equal(t, opportunity.NewOpportunity{Details: opportunity.Details{Name: "A"}, OwnerID: "o",
			ExpectedCloseDate: date(2025, time.June, 30)}, got)
	})
}

func TestNewOpportunityFromProtoViolations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(p *pipelinev1.Opportunity)
		want   []string
	}{
		{"unknown enum value", func(p *pipelinev1.Opportunity) { p.Source = 99 }, []string{"opportunity.source"}},
		{"unknown overriding category", func(p *pipelinev1.Opportunity) { p.ForecastCategory = 77 },
			[]string{"opportunity.forecast_category"}},
		{"unknown role", func(p *pipelinev1.Opportunity) { p.ContactRoles[1].Role = 42 },
			[]string{"opportunity.contact_roles[1].role"}},
		{"malformed money", func(p *pipelinev1.Opportunity) {
			p.Amount = &commonv1.Money{CurrencyCode: "EUR", Units: 1, Nanos: 1_000_000_000}
		}, []string{"opportunity.amount"}},
		{"money of mixed signs", func(p *pipelinev1.Opportunity) {
			p.Amount = &commonv1.Money{CurrencyCode: "EUR", Units: -1, Nanos: 5}
		}, []string{"opportunity.amount"}},
		{"malformed date", func(p *pipelinev1.Opportunity) { p.ExpectedCloseDate = "2025-02-30" },
			[]string{"opportunity.expected_close_date"}},
		{"custom value without a value", func(p *pipelinev1.Opportunity) {
			p.CustomFields["plan"] = &pipelinev1.CustomValue{}
			p.CustomFields["aaa"] = nil
		}, []string{"opportunity.custom_fields.aaa", "opportunity.custom_fields.plan"}},
		{"several at once", func(p *pipelinev1.Opportunity) {
			p.Source = 99
			p.ExpectedCloseDate = "30.06.2025"
		}, []string{"opportunity.source", "opportunity.expected_close_date"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := opportunityProto(t)
			tt.mutate(p)
			_, err := protomap.NewOpportunityFromProto(&pipelinev1.CreateOpportunityRequest{Opportunity: p})
			assert.Equal(t, tt.want, violations(t, err))
		})
	}
	t.Run("missing opportunity", func(t *testing.T) {
		t.Parallel()
		_, err := protomap.NewOpportunityFromProto(&pipelinev1.CreateOpportunityRequest{})
		assert.Equal(t, []string{"opportunity"}, violations(t, err))
	})
}

func TestOpportunityUpdateFromProto(t *testing.T) {
	t.Parallel()
	t.Run("named fields", func(t *testing.T) {
		t.Parallel()
		paths := []string{"name", "source", "custom_fields.plan", "tags", "custom_fields"}
		got, err := protomap.OpportunityUpdateFromProto(&pipelinev1.UpdateOpportunityRequest{Opportunity: opportunityProto(t),
			UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
		require.NoError(t, err)
		assertSame(t, opportunity.Update{Paths: paths, Details: fullDetails()}, got)
	})
	t.Run("bad values of fields not named are dropped", func(t *testing.T) {
		t.Parallel()
		p := opportunityProto(t)
		p.Source = 99
		p.CustomFields["plan"] = &pipelinev1.CustomValue{}
		got, err := protomap.OpportunityUpdateFromProto(&pipelinev1.UpdateOpportunityRequest{Opportunity: p,
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name", "custom_fields.seats"}}})
		require.NoError(t, err)
		assert.Equal(t, opportunity.SourceUnspecified, got.Details.Source)
		assert.NotContains(t, got.Details.CustomFields, "plan")
	})
	t.Run("empty mask is the domain's to refuse", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.OpportunityUpdateFromProto(&pipelinev1.UpdateOpportunityRequest{})
		require.NoError(t, err)
		assert.Empty(t, got.Paths)
	})
}

func TestOpportunityUpdateFromProtoViolations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		paths  []string
		mutate func(p *pipelinev1.Opportunity)
		want   []string
	}{
		{"unknown path", []string{"name", "colour"}, nil, []string{"update_mask.paths[1]"}},
		{"output-only path", []string{"stage_history"}, nil, []string{"update_mask.paths[0]"}},
		{"path of another RPC", []string{"amount", "owner_id", "status"}, nil,
			[]string{"update_mask.paths[0]", "update_mask.paths[1]", "update_mask.paths[2]"}},
		{"bad custom field name", []string{"custom_fields.Plan"}, nil, []string{"update_mask.paths[0]"}},
		{"unknown enum value of a named field", []string{"source"}, func(p *pipelinev1.Opportunity) { p.Source = 99 },
			[]string{"opportunity.source"}},
		{"custom value without value under the whole map", []string{"custom_fields"},
			func(p *pipelinev1.Opportunity) { p.CustomFields["plan"] = &pipelinev1.CustomValue{} },
			[]string{"opportunity.custom_fields.plan"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := opportunityProto(t)
			if tt.mutate != nil {
				tt.mutate(p)
			}
			_, err := protomap.OpportunityUpdateFromProto(&pipelinev1.UpdateOpportunityRequest{Opportunity: p,
				UpdateMask: &fieldmaskpb.FieldMask{Paths: tt.paths}})
			assert.Equal(t, tt.want, violations(t, err))
		})
	}
}

func TestOpportunityCommandsFromProto(t *testing.T) {
	t.Parallel()
	amount := &commonv1.Money{CurrencyCode: "EUR", Units: 7000, Nanos: 250_000_000}
	t.Run("move", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, opportunity.StageMove{StageID: "proposal"},
			protomap.StageMoveFromProto(&pipelinev1.MoveOpportunityStageRequest{StageId: "proposal"}))
	})
	t.Run("amount", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.AmountFromProto(&pipelinev1.UpdateOpportunityAmountRequest{Amount: amount})
		require.NoError(t, err)
		assertSame(t, eur("7000.25"), got)
	})
	t.Run("close date", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.CloseDateFromProto(&pipelinev1.UpdateOpportunityCloseDateRequest{ExpectedCloseDate: "2025-12-31"})
		require.NoError(t, err)
		assert.Equal(t, date(2025, time.December, 31), got)
	})
	t.Run("probability", func(t *testing.T) {
		t.Parallel()
		assert.Nil(t, protomap.ProbabilityFromProto(&pipelinev1.UpdateOpportunityProbabilityRequest{}), "absent clears")
		assert.Equal(t, ptr(int32(0)), protomap.ProbabilityFromProto(&pipelinev1.UpdateOpportunityProbabilityRequest{
			Probability: proto.Uint32(0)}), "0 is an override")
	})
	t.Run("forecast category", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.CategoryOverrideFromProto(&pipelinev1.UpdateOpportunityForecastCategoryRequest{})
		require.NoError(t, err)
		assert.Nil(t, got, "UNSPECIFIED clears")
		got, err = protomap.CategoryOverrideFromProto(&pipelinev1.UpdateOpportunityForecastCategoryRequest{
			ForecastCategory: pipelinev1.ForecastCategory_FORECAST_CATEGORY_OMITTED})
		require.NoError(t, err)
		assert.Equal(t, ptr(pipelinedef.CategoryOmitted), got)
	})
	t.Run("assignment", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, opportunity.Assignment{OwnerID: "ivan", Reason: "holiday"},
			protomap.AssignmentFromProto(&pipelinev1.AssignOpportunityRequest{OwnerId: "ivan", Note: "holiday"}))
	})
	t.Run("contact roles", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.ContactRolesFromProto(&pipelinev1.SetOpportunityContactRolesRequest{
			ContactRoles: protomap.ContactRolesToProto(fullRoles())})
		require.NoError(t, err)
		assert.Equal(t, fullRoles(), got)
		got, err = protomap.ContactRolesFromProto(&pipelinev1.SetOpportunityContactRolesRequest{})
		require.NoError(t, err)
		assert.Nil(t, got, "an empty list removes every role")
	})
	t.Run("win", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.WinFromProto(&pipelinev1.MarkOpportunityWonRequest{Amount: amount, CloseDate: "2025-03-01", Note: "fit"})
		require.NoError(t, err)
		assertSame(t, opportunity.Win{FinalAmount: ptr(eur("7000.25")), ClosedOn: date(2025, time.March, 1), Note: "fit"}, got)
		got, err = protomap.WinFromProto(&pipelinev1.MarkOpportunityWonRequest{})
		require.NoError(t, err)
		assert.Equal(t, opportunity.Win{}, got, "no final amount, close day today")
	})
	t.Run("loss", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.LossFromProto(&pipelinev1.MarkOpportunityLostRequest{Reason: pipelinev1.LostReason_LOST_REASON_COMPETITOR,
			Competitor: "Globex", Note: "n", CloseDate: "2025-03-01", StageId: "lost_to_competitor"})
		require.NoError(t, err)
		assert.Equal(t, opportunity.Loss{Reason: opportunity.LostCompetitor, Competitor: "Globex", Note: "n",
			ClosedOn: date(2025, time.March, 1), StageID: "lost_to_competitor"}, got)
		got, err = protomap.LossFromProto(&pipelinev1.MarkOpportunityLostRequest{})
		require.NoError(t, err, "UNSPECIFIED is the domain's to refuse")
		assert.Equal(t, opportunity.LostUnspecified, got.Reason)
	})
	t.Run("reopen", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, opportunity.Reopening{StageID: "negotiation"},
			protomap.ReopeningFromProto(&pipelinev1.ReopenOpportunityRequest{StageId: "negotiation"}))
	})
}

func TestOpportunityCommandsFromProtoViolations(t *testing.T) {
	t.Parallel()
	bad := &commonv1.Money{CurrencyCode: "EUR", Units: 1, Nanos: -1}
	tests := []struct {
		name string
		run  func() error
		want []string
	}{
		{"amount: malformed money", func() error {
			_, err := protomap.AmountFromProto(&pipelinev1.UpdateOpportunityAmountRequest{Amount: bad})
			return err
		}, []string{"amount"}},
		{"close date: malformed date", func() error {
			_, err := protomap.CloseDateFromProto(&pipelinev1.UpdateOpportunityCloseDateRequest{ExpectedCloseDate: "tomorrow"})
			return err
		}, []string{"expected_close_date"}},
		{"category: unknown enum value", func() error {
			_, err := protomap.CategoryOverrideFromProto(&pipelinev1.UpdateOpportunityForecastCategoryRequest{ForecastCategory: 9})
			return err
		}, []string{"forecast_category"}},
		{"contact roles: unknown enum value", func() error {
			_, err := protomap.ContactRolesFromProto(&pipelinev1.SetOpportunityContactRolesRequest{
				ContactRoles: []*pipelinev1.OpportunityContactRole{{ContactId: "c", Role: 1}, {ContactId: "d", Role: 70}}})
			return err
		}, []string{"contact_roles[1].role"}},
		{"win: malformed money and date", func() error {
			_, err := protomap.WinFromProto(&pipelinev1.MarkOpportunityWonRequest{Amount: bad, CloseDate: "2025-3-1"})
			return err
		}, []string{"amount", "close_date"}},
		{"loss: unknown enum value and malformed date", func() error {
			_, err := protomap.LossFromProto(&pipelinev1.MarkOpportunityLostRequest{Reason: 12, CloseDate: "x"})
			return err
		}, []string{"reason", "close_date"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, violations(t, tt.run()))
		})
	}
}

// The custom values a request carries reach the domain typed as sent.
func TestRequestCustomValues(t *testing.T) {
	t.Parallel()
	p := &pipelinev1.Opportunity{CustomFields: map[string]*pipelinev1.CustomValue{
		"d": protomap.CustomValueToProto(customfield.DateValue("2025-01-01"))}}
	got, err := protomap.NewOpportunityFromProto(&pipelinev1.CreateOpportunityRequest{Opportunity: p})
	require.NoError(t, err)
	assert.Equal(t, map[string]customfield.Value{"d": customfield.DateValue("2025-01-01")}, got.Details.CustomFields)
}
