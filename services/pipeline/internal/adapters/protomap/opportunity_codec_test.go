package protomap_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/eventstore"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

// opportunityEvents has one fixture per event type, every field set to a non-zero value.
func opportunityEvents() []opportunity.Event {
	occurred := at(10 * day)
	revised := fullQuote()
	revised.Version, revised.Status = 3, quote.StatusDraft
	return []opportunity.Event{
		opportunity.OpportunityCreated{Opportunity: fullOpportunity(), At: occurred},
		opportunity.OpportunityDetailsUpdated{
			Changed: []string{opportunity.PathName, opportunity.PathSource, opportunity.PathTags, "custom_fields.plan", "custom_fields.seats"},
			Before: opportunity.Details{Name: "Acme", Source: opportunity.SourceEmail,
				CustomFields: map[string]customfield.Value{"plan": customfield.StringValue("free")}},
			After: opportunity.Details{Name: "Acme expansion", Source: opportunity.SourceReferral, Tags: []string{"big"},
				CustomFields: map[string]customfield.Value{"plan": customfield.StringValue("pro"), "seats": customfield.NumberValue(3)}},
			At: occurred,
		},
		opportunity.OpportunityStageChanged{PipelineID: "default", FromStageID: "proposal", FromStageName: "Proposal/Price Quote",
			ToStageID: "qualification", ToStageName: "Qualification", FromCategory: pipelinedef.CategoryBestCase,
			ToCategory: pipelinedef.CategoryPipeline, Amount: eur("5000"), Probability: 20,
			TimeInPrevious: 36*time.Hour + time.Nanosecond, MovedBy: "olga", OwnerID: "ivan",
			Direction: opportunity.DirectionBackward, At: occurred},
		opportunity.OpportunityAmountChanged{Old: eur("5000"), New: eur("7404.84"), Reason: opportunity.AmountQuoteAccepted,
			QuoteID: "q-1", At: occurred},
		opportunity.OpportunityCloseDateChanged{Old: date(2025, time.June, 30), New: date(2025, time.September, 30),
			DaysMoved: 92, At: occurred},
		opportunity.OpportunityProbabilityChanged{Old: 20, New: 65, Overridden: true, At: occurred},
		opportunity.OpportunityForecastCategoryChanged{Old: pipelinedef.CategoryPipeline, New: pipelinedef.CategoryOmitted,
			Overridden: true, At: occurred},
		opportunity.OpportunityOwnerChanged{Previous: "olga", New: "ivan", Reason: "territory change", At: occurred},
		opportunity.OpportunityContactRolesChanged{Roles: fullRoles(), At: occurred},
		opportunity.OpportunityWon{FinalAmount: eur("7000"), Note: "best fit", ClosedOn: date(2025, time.March, 24),
			FromStageID: "negotiation", TimeInPrevious: 3 * day, DaysOpen: 10, Deal: fullDeal(), At: occurred},
		opportunity.OpportunityLost{Reason: opportunity.LostCompetitor, Competitor: "Globex", Note: "price",
			ClosedOn: date(2025, time.March, 24), FromStageID: "proposal", TimeInPrevious: 2 * day, Amount: eur("6500"),
			DaysOpen: 12, Deal: fullDeal(), At: occurred},
		opportunity.OpportunityReopened{ToStageID: "negotiation", ToStageName: "Negotiation/Review",
			PreviousStatus: opportunity.StatusWon, At: occurred},
		opportunity.QuoteCreated{Quote: fullQuote(), At: occurred},
		opportunity.QuoteRevised{Quote: revised, PreviousVersion: 2, At: occurred},
		opportunity.QuoteSent{QuoteID: "q-1", Version: 2, At: occurred},
		opportunity.QuoteAccepted{QuoteID: "q-1", Version: 2, Total: eur("7404.84"), At: occurred},
		opportunity.QuoteRejected{QuoteID: "q-1", Version: 2, Reason: "too expensive", At: occurred},
		opportunity.QuoteExpired{QuoteID: "q-1", Version: 2, At: occurred},
	}
}

func TestOpportunityCodecRoundTripsEveryEvent(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, e := range opportunityEvents() {
		seen[e.EventType()] = true
		t.Run(e.EventType(), func(t *testing.T) {
			t.Parallel()
			var codec protomap.OpportunityCodec
			msg, err := codec.Encode(e)
			require.NoError(t, err)
			assert.Equal(t, e.EventType(), eventstore.ShortType(string(msg.ProtoReflect().Descriptor().FullName())),
				"payload is the message of the same name")

			got, err := codec.Decode(record(t, msg, codec.OccurredAt(e)))
			require.NoError(t, err)
			assertSame(t, e, got)
		})
	}
	assert.Len(t, seen, 18, "every opportunity event type has a fixture")
}

// The fixtures set every domain field, so an unset proto field means the codec drops data (or
// the proto grew a field the codec does not fill). Fields that the domain leaves empty in an
// event by design are listed.
func TestOpportunityCodecFillsEveryPayloadField(t *testing.T) {
	t.Parallel()
	for _, e := range opportunityEvents() {
		t.Run(e.EventType(), func(t *testing.T) {
			t.Parallel()
			msg, err := protomap.OpportunityCodec{}.Encode(e)
			require.NoError(t, err)
			assert.Empty(t, unsetFields(msg))
		})
	}
}

func TestOpportunityCodecRejectsForeignPayloads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rec  func(t *testing.T) eventstore.Recorded
	}{
		{"contract event", func(t *testing.T) eventstore.Recorded { return record(t, &pipelinev1.ContractExpired{}, t0) }},
		{"pipeline event", func(t *testing.T) eventstore.Recorded { return record(t, &pipelinev1.PipelineArchived{}, t0) }},
		{"not an event", func(t *testing.T) eventstore.Recorded { return record(t, wrapperspb.String("x"), t0) }},
		{"unknown type", func(*testing.T) eventstore.Recorded {
			return eventstore.Recorded{Envelope: &eventsv1.Envelope{EventType: "crm.pipeline.v1.NoSuchEvent"}}
		}},
		{"malformed date", func(t *testing.T) eventstore.Recorded {
			return record(t, &pipelinev1.OpportunityCloseDateChanged{ExpectedCloseDate: "2025-02-30"}, t0)
		}},
		{"malformed amount", func(t *testing.T) eventstore.Recorded {
			return record(t, &pipelinev1.OpportunityAmountChanged{Amount: &commonv1.Money{CurrencyCode: "EUR", Units: 1, Nanos: -1}}, t0)
		}},
		{"malformed decimal", func(t *testing.T) eventstore.Recorded {
			return record(t, &pipelinev1.QuoteCreated{Quote: &pipelinev1.Quote{TaxRatePercent: &commonv1.Decimal{Value: "x"}}}, t0)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := protomap.OpportunityCodec{}.Decode(tt.rec(t))
			assert.Error(t, err)
		})
	}
}

func TestOpportunityCodecRejectsUnencodable(t *testing.T) {
	t.Parallel()
	_, err := protomap.OpportunityCodec{}.Encode(nil)
	assert.Error(t, err)
	_, err = protomap.OpportunityCodec{}.Encode(opportunity.OpportunityAmountChanged{New: eur("0.0000000001")})
	assert.Error(t, err, "an amount with more than 9 fraction digits has no wire form")
}

// A whole life, decided by the domain: the state folded from the decoded log equals the state
// folded in memory.
func TestOpportunityFoldedFromTheLogEqualsTheFoldInMemory(t *testing.T) {
	t.Parallel()
	p := pipelinedef.Default()
	pol := opportunity.Policy{DefaultCurrency: "EUR",
		CustomFields: map[string]customfield.Definition{"plan": {Name: "plan", Type: customfield.TypeString}}}
	now := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	steps := []func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error){
		func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
			return opportunity.Create(o, opportunity.NewOpportunity{ID: "o1", OwnerID: "olga",
				Details: opportunity.Details{Name: "Acme", Tags: []string{"Big"}, CustomFields: map[string]customfield.Value{"plan": customfield.StringValue("pro")}},
				Amount:  eur("1000"), ExpectedCloseDate: date(2025, time.June, 30),
				ContactRoles: []opportunity.ContactRole{{ContactID: "c1", Role: opportunity.RoleChampion, Primary: true}},
				Probability:  ptr(int32(15)), ForecastCategory: pipelinedef.CategoryBestCase}, p, pol, now)
		},
		func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
			return opportunity.UpdateDetails(o, opportunity.Update{Paths: []string{"custom_fields", "name"},
				Details: opportunity.Details{Name: "Acme 2"}}, pol, now)
		},
		func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
			return opportunity.MoveStage(o, opportunity.StageMove{StageID: "proposal", MovedBy: "olga"}, p, now)
		},
		func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
			return opportunity.CreateQuote(o, opportunity.QuoteDraft{QuoteID: "q1", Lines: []quote.Line{
				{SKU: "A", Quantity: dec("3"), UnitPrice: money0("19.99"), DiscountPercent: ptr(dec("10"))}},
				TaxRatePercent: dec("19"), ValidUntil: date(2025, time.April, 30)}, now)
		},
		func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
			return opportunity.SendQuote(o, opportunity.QuoteRef{QuoteID: "q1"}, now)
		},
		func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
			return opportunity.AcceptQuote(o, opportunity.QuoteRef{QuoteID: "q1", Version: 1}, now)
		},
		func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
			return opportunity.UpdateCloseDate(o, date(2025, time.July, 31), pol, now)
		},
		func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
			return opportunity.UpdateProbability(o, ptr(int32(80)), now)
		},
		func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
			return opportunity.MarkLost(o, opportunity.Loss{Reason: opportunity.LostTiming, MovedBy: "olga"}, p, now)
		},
		func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
			return opportunity.Reopen(o, opportunity.Reopening{MovedBy: "olga"}, p, now)
		},
		func(o opportunity.Opportunity, now time.Time) ([]opportunity.Event, error) {
			return opportunity.MarkWon(o, opportunity.Win{FinalAmount: ptr(eur("2000")), MovedBy: "olga"}, p, now)
		},
	}
	var codec protomap.OpportunityCodec
	var mem, fromLog opportunity.Opportunity
	for i, step := range steps {
		now = now.Add(day + time.Duration(i)*time.Nanosecond)
		evs, err := step(mem, now)
		require.NoError(t, err, "step %d", i)
		require.NotEmpty(t, evs, "step %d", i)
		for _, e := range evs {
			msg, err := codec.Encode(e)
			require.NoError(t, err)
			got, err := codec.Decode(record(t, msg, codec.OccurredAt(e)))
			require.NoError(t, err)
			mem, fromLog = opportunity.Apply(mem, e), opportunity.Apply(fromLog, got)
		}
		assertSame(t, mem, fromLog, "after step %d", i)
	}
	assert.Equal(t, opportunity.StatusWon, fromLog.Status)
}

// money0 is an amount without currency (the opportunity's).
func money0(s string) money.Money {
	m := eur(s)
	m.Currency = ""
	return m
}

func fullDeal() opportunity.Deal {
	return opportunity.Deal{PipelineID: "default", OwnerID: "olga", AccountID: "acc-1", LeadID: "lead-1",
		PrimaryCampaignID: "camp-1", Source: opportunity.SourceReferral}
}
