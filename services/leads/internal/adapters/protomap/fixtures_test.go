package protomap_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/eventstore"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

// t0 has nanoseconds so that a truncating mapping shows.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func fullDetails() lead.Details {
	return lead.Details{
		FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Phone: "+44 20 7946 0958",
		Company: "Analytical Engines", JobTitle: "VP Engineering", Website: "https://example.com",
		Country: "GB", Region: "London", City: "London", Industry: "Software", EmployeeCount: 250,
		AnnualRevenue: lead.Money{Currency: "GBP", Units: 12_000_000, Nanos: 500_000_000},
		Source:        lead.SourcePartner, SourceDetail: "partner portal",
		UTM:        lead.UTM{Source: "newsletter", Medium: "email", Campaign: "spring", Term: "crm", Content: "hero"},
		CampaignID: "camp-1", EmailOptOut: true, DoNotContact: true,
		CustomFields: map[string]customfield.Value{
			"plan":     customfield.StringValue("enterprise"),
			"seats":    customfield.NumberValue(42.5),
			"trial":    customfield.BoolValue(true),
			"renewal":  customfield.DateValue("2026-01-31"),
			"disabled": customfield.BoolValue(false),
		},
	}
}

func fullBant() lead.Bant {
	return lead.Bant{
		Budget: lead.Money{Currency: "EUR", Units: 50_000}, BudgetConfirmed: true,
		Authority: "CTO signs", AuthorityConfirmed: true, Need: "pipeline visibility",
		NeedConfirmed: true, Timeline: at(90 * 24 * time.Hour), TimelineConfirmed: true,
	}
}

func fullScore() scoring.Score {
	return scoring.Score{Fit: 40, Engagement: 35, Total: 75, Temperature: scoring.TemperatureHot,
		ModelVersion: 3, ScoredAt: at(time.Hour)}
}

func fullEngagement() scoring.Engagement {
	return scoring.Engagement{Value: 31.25, AsOf: at(2 * time.Hour)}
}

func fullConverted() lead.ConvertedRecords {
	return lead.ConvertedRecords{ContactID: "ct-1", AccountID: "ac-1", OpportunityID: "op-1",
		ConvertedAt: at(5 * time.Hour)}
}

// fullLead sets every field of lead.Lead to a non-zero value.
func fullLead() lead.Lead {
	return lead.Lead{
		ID: "lead-1", Version: 7, Details: fullDetails(), Tags: []string{"hot", "vip"},
		OwnerID: "user-9", AssignmentReason: lead.AssignRoundRobin, TerritoryID: "emea",
		Status: lead.StatusSQL, StatusChangedAt: at(3 * time.Hour),
		QualificationPath: lead.PathProduct, DisqualifyReason: lead.DisqualifyCompetitor,
		Remarket: true, Score: fullScore(), Engagement: fullEngagement(),
		LastEngagedAt: at(2 * time.Hour), Bant: fullBant(), CreatedAt: t0, UpdatedAt: at(4 * time.Hour),
		MergedIntoID: "lead-0", MergedFromIDs: []string{"lead-2", "lead-3"}, Converted: fullConverted(),
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
		AggregateType:    "lead",
		AggregateId:      "lead-1",
		AggregateVersion: 1,
		EventType:        string(payload.ProtoReflect().Descriptor().FullName()),
		OccurredAt:       timestamppb.New(occurredAt),
		Payload:          b,
	}}
}

// unsetFields lists the fields of m that are not populated, so a test notices a proto field
// the mapping forgot (or one added to the proto later).
func unsetFields(m proto.Message) []string {
	var out []string
	r := m.ProtoReflect()
	fields := r.Descriptor().Fields()
	for i := range fields.Len() {
		if f := fields.Get(i); !r.Has(f) {
			out = append(out, string(f.Name()))
		}
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
