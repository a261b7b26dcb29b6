package protomap_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/eventstore"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

func leadEvents() []lead.Event {
	occurred := at(10 * time.Hour)
	return []lead.Event{
		lead.LeadCreated{Lead: fullLead(), At: occurred},
		lead.LeadDetailsUpdated{
			Changed: []string{lead.PathEmail, lead.PathAnnualRevenue, lead.PathUTMSource, "custom_fields.plan", "custom_fields.seats"},
			Before: lead.Details{Email: "old@example.com", UTM: lead.UTM{Source: "ads"},
				CustomFields: map[string]customfield.Value{"plan": customfield.StringValue("free")}},
			After: lead.Details{Email: "new@example.com", AnnualRevenue: lead.Money{Currency: "USD", Units: -1, Nanos: -5},
				UTM: lead.UTM{Source: "newsletter"}, CustomFields: map[string]customfield.Value{
					"plan": customfield.StringValue("pro"), "seats": customfield.NumberValue(3)}},
			At: occurred,
		},
		lead.LeadStatusChanged{From: lead.StatusSQL, To: lead.StatusConverted,
			TimeInPrevious: 36*time.Hour + time.Nanosecond, QualificationPath: lead.PathScore,
			Automatic: true, Reason: "converted", DisqualifyReason: lead.DisqualifyOther, Remarket: true,
			Source: lead.SourceEvent, CampaignID: "camp-1", OwnerID: "user-1", TerritoryID: "emea",
			Converted: fullConverted(), At: occurred},
		lead.BantUpdated{Bant: fullBant(), At: occurred},
		lead.LeadAssigned{PreviousOwnerID: "user-1", OwnerID: "user-2", Reason: lead.AssignTerritoryChange,
			TerritoryID: "emea", Note: "handover", At: occurred},
		lead.LeadTerritoryChanged{PreviousTerritoryID: "emea", TerritoryID: "apac", At: occurred},
		lead.LeadTagsAdded{Tags: []string{"a", "b"}, At: occurred},
		lead.LeadTagsRemoved{Tags: []string{"c"}, At: occurred},
		lead.EngagementRecorded{Signal: scoring.SignalProductUsage, Points: -7, SignalAt: at(9 * time.Hour),
			Detail: "/pricing", CampaignID: "camp-2", Engagement: fullEngagement(), At: occurred},
		lead.LeadScored{Score: fullScore(), Trigger: lead.TriggerRescore, At: occurred},
		lead.LeadMerged{MergedLeadID: "lead-2", Gained: []string{lead.PathPhone, "custom_fields.trial"},
			Values: lead.Details{Phone: "+1 555 0100", CustomFields: map[string]customfield.Value{
				"trial": customfield.BoolValue(false)}},
			TagsGained: []string{"imported"}, EngagementGained: 12.5, Engagement: fullEngagement(), At: occurred},
		lead.LeadMergedInto{SurvivorLeadID: "lead-1", At: occurred},
		lead.LeadConverted{Conversion: lead.Conversion{AccountID: "ac-1", ContactID: "ct-1", OpportunityID: "op-1",
			ConvertedBy: "user-1", AccountCreated: true, ContactCreated: true},
			Source: lead.SourcePartner, CampaignID: "camp-1", OwnerID: "user-2", At: occurred},
		lead.LeadOpportunityWon{OpportunityID: "op-1", WonAt: at(8 * time.Hour),
			Amount: lead.Money{Currency: "EUR", Units: 12000, Nanos: 500_000_000}, CloseDate: "2025-03-01", At: occurred},
	}
}

func TestLeadCodecRoundTripsEveryEvent(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, e := range leadEvents() {
		seen[e.EventType()] = true
		t.Run(e.EventType(), func(t *testing.T) {
			t.Parallel()
			var codec protomap.LeadCodec
			msg, err := codec.Encode(e)
			require.NoError(t, err)
			assert.Equal(t, e.EventType(), eventstore.ShortType(string(msg.ProtoReflect().Descriptor().FullName())),
				"payload is the message of the same name")

			got, err := codec.Decode(record(t, msg, protomap.LeadCodec{}.OccurredAt(e)))
			require.NoError(t, err)
			assert.Equal(t, e, got)
		})
	}
	assert.Len(t, seen, 14, "every lead event type has a case")
}

// The fixtures set every domain field, so an unset proto field means the codec drops data (or
// the proto grew a field the codec does not fill).
func TestLeadCodecFillsEveryPayloadField(t *testing.T) {
	t.Parallel()
	for _, e := range leadEvents() {
		t.Run(e.EventType(), func(t *testing.T) {
			t.Parallel()
			msg, err := protomap.LeadCodec{}.Encode(e)
			require.NoError(t, err)
			assert.Empty(t, unsetFields(msg))
		})
	}
}

func TestLeadCreatedDecodesTheEventLevelAssignmentReason(t *testing.T) {
	t.Parallel()
	// Written before Lead.assignment_reason existed: the reason is on the event only.
	p := protomap.LeadToProto(fullLead())
	p.AssignmentReason = leadsv1.AssignmentReason_ASSIGNMENT_REASON_UNSPECIFIED
	msg := &leadsv1.LeadCreated{Lead: p, AssignmentReason: leadsv1.AssignmentReason_ASSIGNMENT_REASON_MANUAL}

	got, err := protomap.LeadCodec{}.Decode(record(t, msg, t0))
	require.NoError(t, err)
	assert.Equal(t, lead.AssignManual, got.(lead.LeadCreated).Lead.AssignmentReason)
}

func TestLeadCodecRejectsForeignPayloads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rec  func(t *testing.T) eventstore.Recorded
	}{
		{"config event", func(t *testing.T) eventstore.Recorded {
			return record(t, &leadsv1.TerritoryDeleted{TerritoryId: "x"}, t0)
		}},
		{"not an event", func(t *testing.T) eventstore.Recorded { return record(t, wrapperspb.String("x"), t0) }},
		{"unknown type", func(*testing.T) eventstore.Recorded {
			return eventstore.Recorded{Envelope: &eventsv1.Envelope{EventType: "crm.leads.v1.NoSuchEvent"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := protomap.LeadCodec{}.Decode(tt.rec(t))
			assert.Error(t, err)
		})
	}
}

func TestLeadCodecRejectsNilEvent(t *testing.T) {
	t.Parallel()
	_, err := protomap.LeadCodec{}.Encode(nil)
	assert.Error(t, err)
}
