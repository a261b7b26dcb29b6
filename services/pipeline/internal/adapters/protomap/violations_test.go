package protomap_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinecfg"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

// resolves reports whether path names a field of md: dot-separated field names, "[i]" after a
// repeated field (or the list as a whole at the end), a key segment after a map field.
func resolves(md protoreflect.MessageDescriptor, path string) bool {
	segs := strings.Split(path, ".")
	for i := 0; i < len(segs); i++ {
		name, index, indexed := strings.Cut(segs[i], "[")
		f := md.Fields().ByName(protoreflect.Name(name))
		wholeList := f != nil && f.IsList() && !indexed && i == len(segs)-1
		if f == nil || (indexed != f.IsList() && !wholeList) || (indexed && !strings.HasSuffix(index, "]")) {
			return false
		}
		if f.IsMap() {
			if i++; i == len(segs) {
				return true
			}
			f = f.MapValue()
		}
		last := i == len(segs)-1
		switch {
		case last:
			return true
		case f.Kind() != protoreflect.MessageKind:
			return false
		}
		md = f.Message()
	}
	return true
}

func TestResolves(t *testing.T) {
	t.Parallel()
	md := (&pipelinev1.CreateQuoteRequest{}).ProtoReflect().Descriptor()
	for path, want := range map[string]bool{"quote.line_items[2].quantity": true, "quote.lines[2].quantity": false,
		"quote.line_items.quantity": false, "quote.line_items": true, "quote.name[0]": false, "quote": true, "quote.tax_rate_percent.value": true,
		"quote.name.x": false} {
		assert.Equal(t, want, resolves(md, path), path)
	}
	cfg := (&pipelinev1.UpdatePipelineConfigRequest{}).ProtoReflect().Descriptor()
	assert.True(t, resolves(cfg, "config.custom_fields.plan.type"))
	assert.False(t, resolves(cfg, "config.custom_fields.plan.colour"))
}

// domainPaths returns the violation paths of a domain error.
func domainPaths(t *testing.T, err error) []string {
	t.Helper()
	return violations(t, err)
}

// Every violation the domain reports for a request's command, translated by RequestError,
// names a field of that request (the domain errors come from the real decisions, given input
// bad in every way they check).
func TestRequestErrorNamesRequestFields(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	p := pipelinedef.Default()
	pol := opportunity.Policy{DefaultCurrency: "EUR", CustomFields: map[string]customfield.Definition{
		"plan": {Name: "plan", Type: customfield.TypeString, Required: true}}}
	open := func() opportunity.Opportunity {
		evs, err := opportunity.Create(opportunity.Opportunity{}, opportunity.NewOpportunity{ID: "o1", OwnerID: "olga",
			Details: opportunity.Details{Name: "A", CustomFields: map[string]customfield.Value{"plan": customfield.StringValue("x")}},
			Amount:  eur("10"), ExpectedCloseDate: date(2025, time.June, 1)}, p, pol, now)
		require.NoError(t, err)
		o := opportunity.ApplyAll(opportunity.Opportunity{}, evs...)
		evs, err = opportunity.CreateQuote(o, opportunity.QuoteDraft{QuoteID: "q1", Lines: []quote.Line{{SKU: "A",
			Quantity: dec("1"), UnitPrice: eur("1")}}, ValidUntil: date(2025, time.April, 1)}, now)
		require.NoError(t, err)
		return opportunity.ApplyAll(o, evs...)
	}
	active := func() contract.Contract {
		evs, err := contract.Create(contract.Contract{}, contract.NewContract{ID: "k1", OpportunityID: "o1",
			Details: contract.Details{OwnerID: "olga", StartDate: date(2025, time.March, 1), EndDate: date(2026, time.February, 28),
				Value: eur("100")}}, opportunity.StatusWon, now)
		require.NoError(t, err)
		return contract.ApplyAll(contract.Contract{}, evs...)
	}
	long := strings.Repeat("x", 30000)
	neg := money.MustParse("EUR", "-1")
	badLine := quote.Line{LineID: "bad id", SKU: long, Description: long + "\x00", Quantity: dec("-1"), UnitPrice: neg,
		DiscountPercent: ptr(dec("101")), DiscountAmount: ptr(neg)}
	badStages := []pipelinedef.Stage{{ID: "Bad", Name: "", Probability: 101, Kind: 0}, {ID: "w", Name: "W", Kind: pipelinedef.KindWon,
		Probability: 50, Category: pipelinedef.CategoryPipeline}, {ID: "o", Name: "o", Kind: pipelinedef.KindOpen, Category: pipelinedef.CategoryClosed}}
	badQuote := opportunity.QuoteDraft{QuoteID: "bad id", Name: long, Lines: []quote.Line{badLine}, TaxRatePercent: dec("-1"),
		ValidUntil: civil.Date{Year: 2025, Month: 2, Day: 30}}

	tests := []struct {
		req proto.Message
		err func() error
	}{
		{&pipelinev1.CreatePipelineRequest{}, func() error {
			_, err := pipelinedef.Define(pipelinedef.New("Bad ID"), pipelinedef.Pipeline{ID: "Bad ID", Name: long, Stages: badStages}, now)
			return err
		}},
		{&pipelinev1.UpdatePipelineRequest{}, func() error {
			_, err := pipelinedef.Revise(pipelinedef.New(pipelinedef.DefaultID), pipelinedef.Pipeline{ID: "other", Stages: badStages}, now)
			return err
		}},
		{&pipelinev1.UpdatePipelineConfigRequest{}, func() error {
			_, err := pipelinecfg.Update(pipelinecfg.New(), pipelinecfg.Config{MaxCloseDatePastDays: -1, DefaultCurrency: "euro",
				CustomFields: map[string]customfield.Definition{"plan": {Name: "Plan"}, "x": {Name: "x", Label: long}}}, now)
			return err
		}},
		{&pipelinev1.CreateOpportunityRequest{}, func() error {
			_, err := opportunity.Create(opportunity.Opportunity{}, opportunity.NewOpportunity{ID: "bad id", LeadID: "bad id",
				OwnerID: "bad owner", StageID: "closed_won", Amount: neg, Probability: ptr(int32(101)),
				ForecastCategory: pipelinedef.CategoryClosed,
				Details: opportunity.Details{Name: long, AccountID: "bad id", PrimaryContactID: "bad id", NextStep: long,
					Description: long, Source: 99, PrimaryCampaignID: "bad id", Competitors: []string{""}, Tags: []string{""},
					CustomFields: map[string]customfield.Value{"nope": customfield.BoolValue(true)}},
				ContactRoles: []opportunity.ContactRole{{ContactID: "bad id"}, {ContactID: "c", Primary: true}, {ContactID: "c", Primary: true}},
			}, p, pol, now)
			return err
		}},
		{&pipelinev1.UpdateOpportunityRequest{}, func() error {
			_, err := opportunity.UpdateDetails(open(), opportunity.Update{Paths: []string{"name", "colour", "custom_fields.plan"}}, pol, now)
			return err
		}},
		{&pipelinev1.UpdateOpportunityRequest{}, func() error {
			_, err := opportunity.UpdateDetails(open(), opportunity.Update{}, pol, now)
			return err
		}},
		{&pipelinev1.MoveOpportunityStageRequest{}, func() error {
			_, err := opportunity.MoveStage(open(), opportunity.StageMove{StageID: "closed_won", MovedBy: "olga"}, p, now)
			return err
		}},
		{&pipelinev1.UpdateOpportunityAmountRequest{}, func() error { _, err := opportunity.UpdateAmount(open(), neg, now); return err }},
		{&pipelinev1.UpdateOpportunityCloseDateRequest{}, func() error {
			_, err := opportunity.UpdateCloseDate(open(), date(2020, 1, 1), pol, now)
			return err
		}},
		{&pipelinev1.UpdateOpportunityProbabilityRequest{}, func() error {
			_, err := opportunity.UpdateProbability(open(), ptr(int32(-1)), now)
			return err
		}},
		{&pipelinev1.UpdateOpportunityForecastCategoryRequest{}, func() error {
			_, err := opportunity.UpdateForecastCategory(open(), ptr(pipelinedef.CategoryClosed), now)
			return err
		}},
		{&pipelinev1.AssignOpportunityRequest{}, func() error {
			_, err := opportunity.Assign(open(), opportunity.Assignment{OwnerID: "", Reason: long}, now)
			return err
		}},
		{&pipelinev1.SetOpportunityContactRolesRequest{}, func() error {
			roles := make([]opportunity.ContactRole, opportunity.MaxContactRoles+1)
			roles[0].Primary, roles[1].Primary = true, true
			_, err := opportunity.SetContactRoles(open(), roles, now)
			return err
		}},
		{&pipelinev1.MarkOpportunityWonRequest{}, func() error {
			_, err := opportunity.MarkWon(open(), opportunity.Win{FinalAmount: &neg, Note: long, ClosedOn: date(2030, 1, 1), MovedBy: "olga"}, p, now)
			return err
		}},
		{&pipelinev1.MarkOpportunityLostRequest{}, func() error {
			_, err := opportunity.MarkLost(open(), opportunity.Loss{Reason: opportunity.LostCompetitor, Note: long,
				ClosedOn: date(2030, 1, 1), StageID: "proposal", MovedBy: "olga"}, p, now)
			return err
		}},
		{&pipelinev1.MarkOpportunityLostRequest{}, func() error {
			_, err := opportunity.MarkLost(open(), opportunity.Loss{Competitor: long, MovedBy: "olga"}, p, now)
			return err
		}},
		{&pipelinev1.CreateQuoteRequest{}, func() error { _, err := opportunity.CreateQuote(open(), badQuote, now); return err }},
		{&pipelinev1.ReviseQuoteRequest{}, func() error {
			d := badQuote
			d.QuoteID = "q1"
			d.Lines = append(d.Lines, quote.Line{SKU: "x", Quantity: dec("1"), UnitPrice: money.MustParse("USD", "1"),
				DiscountAmount: ptr(money.MustParse("USD", "1"))})
			_, err := opportunity.ReviseQuote(open(), d, now)
			return err
		}},
		{&pipelinev1.CreateQuoteRequest{}, func() error {
			_, err := opportunity.CreateQuote(open(), opportunity.QuoteDraft{QuoteID: "q2", ValidUntil: date(2025, 4, 1)}, now)
			return err
		}},
		{&pipelinev1.RejectQuoteRequest{}, func() error {
			_, err := opportunity.RejectQuote(open(), opportunity.QuoteRef{QuoteID: "q1"}, long, now)
			return err
		}},
		{&pipelinev1.CreateContractRequest{}, func() error {
			_, err := contract.Create(contract.Contract{}, contract.NewContract{ID: "bad id", OpportunityID: "", AccountID: "bad id",
				Details: contract.Details{OwnerID: "", Value: money.Money{Amount: decimal.NewFromInt(-1)}, Terms: long + long}},
				opportunity.StatusWon, now)
			return err
		}},
		{&pipelinev1.CreateContractRequest{}, func() error {
			_, err := contract.Create(contract.Contract{}, contract.NewContract{ID: "k", OpportunityID: "o",
				Details: contract.Details{OwnerID: "o", Value: eur("1"), StartDate: date(2025, 5, 1), EndDate: date(2025, 4, 1)}},
				opportunity.StatusWon, now)
			return err
		}},
		{&pipelinev1.UpdateContractRequest{}, func() error {
			_, err := contract.UpdateDetails(active(), contract.Update{Paths: []string{"colour", "renewal_date", "value"},
				Details: contract.Details{RenewalDate: date(2030, 1, 1), Value: neg}}, now)
			return err
		}},
		{&pipelinev1.UpdateContractRequest{}, func() error {
			_, err := contract.UpdateDetails(active(), contract.Update{}, now)
			return err
		}},
		{&pipelinev1.TerminateContractRequest{}, func() error {
			_, err := contract.Terminate(active(), contract.Termination{EffectiveDate: date(2030, 1, 1)}, now)
			return err
		}},
		{&pipelinev1.RenewContractRequest{}, func() error {
			c := active()
			c.Status = contract.StatusActive
			_, err := contract.Renew(c, contract.Renewal{NewEndDate: date(2025, 1, 1), NewRenewalDate: date(2024, 1, 1),
				NewValue: ptr(money.MustParse("USD", "1"))}, now)
			return err
		}},
		{&pipelinev1.RenewContractRequest{}, func() error {
			c := active()
			c.Status = contract.StatusActive
			_, err := contract.Renew(c, contract.Renewal{NewEndDate: date(2027, 1, 1), NewValue: ptr(neg)}, now)
			return err
		}},
	}
	for _, tt := range tests {
		name := string(tt.req.ProtoReflect().Descriptor().Name())
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := tt.err()
			before := domainPaths(t, err)
			require.NotEmpty(t, before)
			translated := protomap.RequestError(tt.req, err)
			after := violations(t, translated)
			require.Len(t, after, len(before))
			for i, path := range after {
				if before[i] == "moved_by" {
					continue // the caller, not a request field
				}
				assert.True(t, resolves(tt.req.ProtoReflect().Descriptor(), path), "%s: domain %q → %q names no request field",
					name, before[i], path)
			}
		})
	}
}

func TestRequestErrorRewrites(t *testing.T) {
	t.Parallel()
	invalid := func(fields ...string) error {
		var v apperr.Violations
		for _, f := range fields {
			v.Add(f, "bad")
		}
		return v.Err("invalid")
	}
	tests := []struct {
		req        proto.Message
		from, want []string
	}{
		{&pipelinev1.CreateQuoteRequest{}, []string{"lines[2].quantity", "lines", "valid_until"},
			[]string{"quote.line_items[2].quantity", "quote.line_items", "quote.valid_until"}},
		{&pipelinev1.MarkOpportunityWonRequest{}, []string{"final_amount", "closed_on", "note"}, []string{"amount", "close_date", "note"}},
		{&pipelinev1.RenewContractRequest{}, []string{"new_end_date", "new_renewal_date", "new_value"},
			[]string{"end_date", "renewal_date", "value"}},
		{&pipelinev1.CreatePipelineRequest{}, []string{"stages[1].probability", "id"},
			[]string{"pipeline.stages[1].default_probability", "pipeline.id"}},
		{&pipelinev1.UpdatePipelineRequest{}, []string{"id", "stages[0].probability"}, []string{"pipeline_id", "stages[0].default_probability"}},
		{&pipelinev1.UpdateOpportunityRequest{}, []string{"update_mask.paths[1]", "update_mask.paths", "tags[0]"},
			[]string{"update_mask.paths[1]", "update_mask.paths", "opportunity.tags[0]"}},
		{&pipelinev1.CreateOpportunityRequest{}, []string{"id", "moved_by", "contact_roles[0].role"},
			[]string{"opportunity_id", "moved_by", "opportunity.contact_roles[0].role"}},
		{&pipelinev1.SetOpportunityContactRolesRequest{}, []string{"roles", "roles[3].primary", "roles[1].role"},
			[]string{"contact_roles", "contact_roles[3].is_primary", "contact_roles[1].role"}},
		{&pipelinev1.GetForecastRequest{}, []string{"anything"}, []string{"anything"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.req.ProtoReflect().Descriptor().Name()), func(t *testing.T) {
			t.Parallel()
			err := invalid(tt.from...)
			assert.Equal(t, tt.want, violations(t, protomap.RequestError(tt.req, err)))
			assert.Equal(t, tt.from, violations(t, err), "the domain's error is not modified")
		})
	}
	t.Run("other errors pass", func(t *testing.T) {
		t.Parallel()
		nf := apperr.NotFoundf("opportunity", "x")
		assert.Same(t, nf, protomap.RequestError(&pipelinev1.CreateQuoteRequest{}, nf))
		assert.NoError(t, protomap.RequestError(&pipelinev1.CreateQuoteRequest{}, nil))
		plain := errors.New("boom")
		assert.Equal(t, plain, protomap.RequestError(&pipelinev1.CreateQuoteRequest{}, plain))
	})
}
