package lead_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

const day = 24 * time.Hour

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// policy: default model (MQL 60, warm 40, hot 70, half-life 30 days), an EMEA round-robin
// territory, a US enterprise territory with a fixed owner, three custom fields, every BANT part
// required, stall after 30 days.
func policy() lead.Policy {
	return lead.Policy{
		Model: scoring.DefaultModel(),
		Territories: []territory.Territory{
			{ID: "emea", Name: "EMEA", Priority: 10, Countries: []string{"DE", "FR", "GB"},
				Mode: territory.ModeRoundRobin, RepIDs: []string{"r1", "r2"}},
			{ID: "us-ent", Name: "US enterprise", Priority: 5, Countries: []string{"US"}, MinEmployees: 1000,
				Mode: territory.ModeFixedOwner, OwnerID: "olga"},
		},
		CustomFields: map[string]customfield.Definition{
			"plan":    {Name: "plan", Type: customfield.TypeString},
			"seats":   {Name: "seats", Type: customfield.TypeNumber},
			"renewal": {Name: "renewal", Type: customfield.TypeDate},
		},
		Settings: lead.Settings{StallDays: 30, RequireBudget: true, RequireAuthority: true,
			RequireNeed: true, RequireTimeline: true},
	}
}

// roundRobin returns an Assigner that hands out reps in turn from a local cursor, like the
// app's shared cursor would.
func roundRobin() lead.Assigner {
	var cursor uint64
	return func(t territory.Territory) (string, error) {
		rep := territory.PickRep(t, cursor)
		cursor++
		return rep, nil
	}
}

// details of a lead that matches no territory and has fit 0 under the default model.
func details() lead.Details {
	return lead.Details{FirstName: "Jane", LastName: "Doe", Email: "jane@acme.com", Company: "Acme",
		JobTitle: "Software Engineer", Country: "BR", Source: lead.SourceWebForm}
}

func create(t *testing.T, d lead.Details) lead.Lead {
	t.Helper()
	evs, err := lead.Create(lead.Lead{}, lead.NewLead{ID: "l1", Details: d}, policy(), roundRobin(), t0)
	require.NoError(t, err)
	return lead.ApplyAll(lead.Lead{}, evs...)
}

// inStatus returns a fresh lead moved to s at t0 (bypassing decisions, to test each transition
// in isolation).
func inStatus(t *testing.T, s lead.Status) lead.Lead {
	t.Helper()
	l := create(t, details())
	if s != lead.StatusNew {
		l = lead.Apply(l, lead.LeadStatusChanged{From: lead.StatusNew, To: s, At: t0})
	}
	return l
}

func apply(t *testing.T, l lead.Lead, evs []lead.Event, err error) lead.Lead {
	t.Helper()
	require.NoError(t, err)
	return lead.ApplyAll(l, evs...)
}

func violations(t *testing.T, err error) []string {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "want an apperr.Error, got %v", err)
	require.Equal(t, apperr.Invalid, e.Kind, "%v", err)
	var fields []string
	for _, f := range e.Fields {
		fields = append(fields, f.Field)
	}
	return fields
}

func precondition(t *testing.T, err error) (reason, msg string) {
	t.Helper()
	var e *apperr.Error
	require.True(t, errors.As(err, &e), "want an apperr.Error, got %v", err)
	require.Equal(t, apperr.FailedPrecondition, e.Kind, "%v", err)
	return e.Reason, e.Message
}

func types(evs []lead.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.EventType())
	}
	return out
}
