package protomap_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/eventstore"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/libs/money/moneytest"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinecfg"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

const day = 24 * time.Hour

// t0 has nanoseconds so that a truncating mapping shows.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func date(y int, m time.Month, d int) civil.Date { return civil.New(y, m, d) }

func eur(s string) money.Money { return money.MustParse("EUR", s) }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func ptr[T any](v T) *T { return &v }

func fullDetails() opportunity.Details {
	return opportunity.Details{
		Name: "Acme – 500 seats", AccountID: "acc-1", PrimaryContactID: "ct-1", NextStep: "send proposal",
		Description: "Expansion\nof the pilot", Source: opportunity.SourcePartner, PrimaryCampaignID: "camp-1",
		Competitors: []string{"Globex", "Initech"}, Tags: []string{"enterprise", "q2"},
		CustomFields: map[string]customfield.Value{
			"plan":    customfield.StringValue("enterprise"),
			"seats":   customfield.NumberValue(42.5),
			"trial":   customfield.BoolValue(false),
			"renewal": customfield.DateValue("2026-01-31"),
		},
	}
}

func fullRoles() []opportunity.ContactRole {
	return []opportunity.ContactRole{{ContactID: "ct-1", Role: opportunity.RoleDecisionMaker, Primary: true},
		{ContactID: "ct-2", Role: opportunity.RoleOther}}
}

// fullOpportunity sets every field of opportunity.Opportunity but Quotes (not part of the
// message) to a non-zero value.
func fullOpportunity() opportunity.Opportunity {
	return opportunity.Opportunity{
		ID: "opp-1", Version: 9, Details: fullDetails(), LeadID: "lead-1", OwnerID: "olga",
		PipelineID: "default", StageID: "closed_lost", StageName: "Closed Lost",
		Amount: eur("125000.50"), Probability: 35, ProbabilityOverridden: true,
		StageProbability: 30, StageCategory: pipelinedef.CategoryBestCase,
		ExpectedCloseDate: date(2025, time.June, 30), ForecastCategory: pipelinedef.CategoryCommit,
		CategoryOverridden: true, ContactRoles: fullRoles(), Status: opportunity.StatusLost,
		Close: opportunity.Closing{ClosedOn: date(2025, time.March, 20), Note: "went with Globex",
			LostReason: opportunity.LostCompetitor, Competitor: "Globex"},
		StageEnteredAt: at(6 * day), CreatedAt: t0, UpdatedAt: at(6*day + time.Hour),
		StageHistory: []opportunity.StageVisit{
			{StageID: "prospecting", StageName: "Prospecting", EnteredAt: t0, LeftAt: at(2 * day)},
			{StageID: "proposal", StageName: "Proposal", EnteredAt: at(2 * day), LeftAt: at(6 * day), MovedBy: "olga"},
			{StageID: "closed_lost", StageName: "Closed Lost", EnteredAt: at(6 * day), MovedBy: "svc:bot"},
		},
	}
}

// fullQuote sets every field of quote.Quote, with a line of each discount kind.
func fullQuote() quote.Quote {
	return quote.Quote{
		QuoteID: "q-1", Version: 2, Name: "Acme, 3 years", Currency: "EUR",
		Lines: []quote.Line{
			{LineID: "1", SKU: "SEAT", Description: "Seat licence", Quantity: dec("500"), UnitPrice: eur("12.345678901"),
				DiscountPercent: ptr(dec("12.5")), Subtotal: eur("6172.84"), Discount: eur("771.61"), Net: eur("5401.23")},
			{LineID: "setup", Description: "Onboarding", Quantity: dec("1.5"), UnitPrice: eur("1000"),
				DiscountAmount: ptr(eur("100")), Subtotal: eur("1500"), Discount: eur("100"), Net: eur("1400")},
			{LineID: "zero", SKU: "FREE", Quantity: dec("1"), UnitPrice: eur("0"), DiscountPercent: ptr(dec("0")),
				Subtotal: eur("0"), Discount: eur("0"), Net: eur("0")},
		},
		TaxRatePercent: dec("8.875"), ValidUntil: date(2025, time.April, 30), Status: quote.StatusSent,
		CreatedAt: at(3 * day), StatusChangedAt: at(4 * day),
		Subtotal: eur("7672.84"), DiscountTotal: eur("871.61"), NetTotal: eur("6801.23"), TaxTotal: eur("603.61"),
		Total: eur("7404.84"),
	}
}

func fullContractDetails() contract.Details {
	return contract.Details{OwnerID: "olga", StartDate: date(2025, time.April, 1), EndDate: date(2026, time.March, 31),
		Value: eur("120000"), Terms: "Net 30.\nAuto-renews yearly.", RenewalDate: date(2026, time.March, 1), AutoRenew: true}
}

// fullContract sets every field of contract.Contract.
func fullContract() contract.Contract {
	return contract.Contract{ID: "ctr-1", Version: 4, OpportunityID: "opp-1", AccountID: "acc-1",
		Details: fullContractDetails(), TermStart: date(2025, time.October, 1), Status: contract.StatusTerminated,
		TerminationReason: "merger", TerminatedOn: date(2025, time.December, 31), CreatedAt: t0, UpdatedAt: at(day)}
}

// fullPipeline sets every field of pipelinedef.Pipeline.
func fullPipeline() pipelinedef.Pipeline {
	p := pipelinedef.Default()
	p.ID, p.Name, p.Archived, p.Revision = "renewals", "Renewals", true, 3
	return p
}

func fullConfig() pipelinecfg.Config {
	return pipelinecfg.Config{
		CustomFields: map[string]customfield.Definition{
			"plan":  {Name: "plan", Type: customfield.TypeString, Label: "Plan", Required: true},
			"seats": {Name: "seats", Type: customfield.TypeNumber, Label: "Seats"},
		},
		MaxCloseDatePastDays: 30, DefaultCurrency: "EUR",
	}
}

// record builds what the event store reads back for payload appended at occurredAt.
func record(t *testing.T, payload proto.Message, occurredAt time.Time) eventstore.Recorded {
	t.Helper()
	b, err := proto.Marshal(payload)
	require.NoError(t, err)
	return eventstore.Recorded{Envelope: &eventsv1.Envelope{
		EventId:          "evt-1",
		TenantId:         "acme",
		AggregateType:    "opportunity",
		AggregateId:      "opp-1",
		AggregateVersion: 1,
		EventType:        string(payload.ProtoReflect().Descriptor().FullName()),
		OccurredAt:       timestamppb.New(occurredAt),
		Payload:          b,
	}}
}

// unsetFields lists the fields of m that are not populated (a oneof counts as set when one of
// its members is), so a test notices a proto field a mapping forgot or one added later.
func unsetFields(m proto.Message, except ...string) []string {
	var out []string
	r := m.ProtoReflect()
	fields := r.Descriptor().Fields()
	skip := map[string]bool{}
	for _, e := range except {
		skip[e] = true
	}
	for i := range fields.Len() {
		f := fields.Get(i)
		if skip[string(f.Name())] {
			continue
		}
		if o := f.ContainingOneof(); o != nil && r.WhichOneof(o) != nil {
			continue
		}
		if !r.Has(f) {
			out = append(out, string(f.Name()))
		}
	}
	return out
}

// enumValues returns the declared numbers of a proto enum.
func enumValues(d protoreflect.EnumDescriptor) []protoreflect.EnumNumber {
	var out []protoreflect.EnumNumber
	for i := range d.Values().Len() {
		out = append(out, d.Values().Get(i).Number())
	}
	return out
}

// violations returns the field paths of an Invalid error.
func violations(t *testing.T, err error) []string {
	t.Helper()
	require.Error(t, err)
	e, ok := apperr.As(err)
	require.True(t, ok, "not an apperr error: %v", err)
	require.Equal(t, apperr.Invalid, e.Kind, "error: %v", err)
	out := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

// assertSame compares want and got with decimals by value: a decimal.Decimal is not comparable
// field by field (12.5 may be 125×10⁻¹ or 12500000000×10⁻⁹), and the wire form does not keep
// the exponent.
func assertSame[T any](t *testing.T, want, got T, msgAndArgs ...any) {
	t.Helper()
	assert.Equal(t, moneytest.Canonical(want), moneytest.Canonical(got), msgAndArgs...)
}

func TestAssertSameComparesDecimalsByValue(t *testing.T) {
	t.Parallel()
	a := quote.Line{Quantity: dec("12.5"), DiscountPercent: ptr(dec("10")), UnitPrice: eur("1.50")}
	b := quote.Line{Quantity: dec("12.500000000"), DiscountPercent: ptr(dec("10.0")), UnitPrice: eur("1.5")}
	assert.Equal(t, moneytest.Canonical(a), moneytest.Canonical(b))
	b.Quantity = dec("12.6")
	assert.NotEqual(t, moneytest.Canonical(a), moneytest.Canonical(b), "a different value still shows")
}
