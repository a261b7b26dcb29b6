package opportunity_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

const day = 24 * time.Hour

// t0 is a Monday morning; "today" is 2025-03-03.
var t0 = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)

func date(y int, m time.Month, d int) civil.Date { return civil.New(y, m, d) }

func eur(s string) money.Money { return money.MustParse("EUR", s) }

// policy: EUR by default, close dates not before today, three custom fields.
func policy() opportunity.Policy {
	return opportunity.Policy{
		CustomFields: map[string]customfield.Definition{
			"plan":    {Name: "plan", Type: customfield.TypeString},
			"seats":   {Name: "seats", Type: customfield.TypeNumber},
			"renewal": {Name: "renewal", Type: customfield.TypeDate},
		},
		DefaultCurrency: "EUR",
	}
}

func pipe() pipelinedef.Pipeline { return pipelinedef.Default() }

// newOpp is a valid CreateOpportunity command in the default pipeline.
func newOpp() opportunity.NewOpportunity {
	return opportunity.NewOpportunity{ID: "o1", Details: opportunity.Details{Name: "Acme expansion", AccountID: "acc1"},
		OwnerID: "olga", Amount: eur("10000"), ExpectedCloseDate: date(2025, time.June, 30)}
}

func create(t *testing.T) opportunity.Opportunity {
	t.Helper()
	evs, err := opportunity.Create(opportunity.Opportunity{}, newOpp(), pipe(), policy(), t0)
	require.NoError(t, err)
	return opportunity.ApplyAll(opportunity.Opportunity{}, evs...)
}

func apply(t *testing.T, o opportunity.Opportunity, evs []opportunity.Event, err error) opportunity.Opportunity {
	t.Helper()
	require.NoError(t, err)
	return opportunity.ApplyAll(o, evs...)
}

// won returns a fresh opportunity marked won at t0 + 1 day.
func won(t *testing.T) opportunity.Opportunity {
	t.Helper()
	o := create(t)
	evs, err := opportunity.MarkWon(o, opportunity.Win{MovedBy: "olga"}, pipe(), t0.Add(day))
	return apply(t, o, evs, err)
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
	e, ok := apperr.As(err)
	require.True(t, ok, "want an apperr.Error, got %v", err)
	require.Equal(t, apperr.FailedPrecondition, e.Kind, "%v", err)
	return e.Reason, e.Message
}

func types(evs []opportunity.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.EventType())
	}
	return out
}

// errOf keeps only a decision's error.
func errOf(_ []opportunity.Event, err error) error { return err }

func ptr[T any](v T) *T { return &v }
