package lead_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

func TestUpdateDetails(t *testing.T) {
	t.Parallel()
	p := policy()
	t.Run("changed fields with old and new values", func(t *testing.T) {
		t.Parallel()
		l := create(t, details())
		d := lead.Details{Email: "jane.doe@acme.com", Phone: "+49 30 1234567", FirstName: "ignored: not in mask"}
		evs, err := lead.UpdateDetails(l, lead.Update{Paths: []string{"phone", "email", "last_name"}, Details: d}, p, nil, t0.Add(day))
		require.NoError(t, err)
		require.Equal(t, []string{"LeadDetailsUpdated"}, types(evs), "email is a fit field but the score did not change")
		u := evs[0].(lead.LeadDetailsUpdated)
		assert.Equal(t, []string{"last_name", "email", "phone"}, u.Changed)
		assert.Equal(t, lead.Details{LastName: "Doe", Email: "jane@acme.com"}, u.Before)
		assert.Equal(t, lead.Details{Email: "jane.doe@acme.com", Phone: "+49 30 1234567"}, u.After)
		n := lead.ApplyAll(l, evs...)
		assert.Equal(t, "Jane", n.FirstName)
		assert.Empty(t, n.LastName, "a masked path with an empty value clears the field")
		assert.Equal(t, "jane.doe@acme.com", n.Email)
		assert.Equal(t, t0.Add(day), n.UpdatedAt)
	})
	t.Run("unknown path", func(t *testing.T) {
		t.Parallel()
		l := create(t, details())
		_, err := lead.UpdateDetails(l, lead.Update{Paths: []string{"email", "status", "custom_fields.Bad"}}, p, nil, t0)
		assert.Equal(t, []string{"update_mask.paths[1]", "update_mask.paths[2]"}, violations(t, err))
		_, err = lead.UpdateDetails(l, lead.Update{}, p, nil, t0)
		assert.Equal(t, []string{"update_mask.paths"}, violations(t, err))
	})
	t.Run("no change, no events", func(t *testing.T) {
		t.Parallel()
		l := create(t, details())
		evs, err := lead.UpdateDetails(l, lead.Update{Paths: []string{"email"}, Details: lead.Details{Email: " jane@acme.com "}}, p, nil, t0)
		require.NoError(t, err)
		assert.Empty(t, evs)
	})
	t.Run("territory change reassigns and rescores", func(t *testing.T) {
		t.Parallel()
		l := create(t, details())
		evs, err := lead.UpdateDetails(l, lead.Update{Paths: []string{"country"}, Details: lead.Details{Country: "fr"}}, p, roundRobin(), t0.Add(day))
		require.NoError(t, err)
		require.Equal(t, []string{"LeadDetailsUpdated", "LeadTerritoryChanged", "LeadAssigned", "LeadScored"}, types(evs))
		assert.Equal(t, lead.LeadTerritoryChanged{TerritoryID: "emea", At: t0.Add(day)}, evs[1])
		assert.Equal(t, lead.LeadAssigned{OwnerID: "r1", Reason: lead.AssignTerritoryChange, TerritoryID: "emea", At: t0.Add(day)}, evs[2])
		sc := evs[3].(lead.LeadScored)
		assert.EqualValues(t, 10, sc.Score.Fit)
		assert.Equal(t, lead.TriggerDetailsUpdated, sc.Trigger)
		n := lead.ApplyAll(l, evs...)
		assert.Equal(t, "FR", n.Country)
		assert.Equal(t, "r1", n.OwnerID)

		// Leaving every territory keeps the owner.
		evs, err = lead.UpdateDetails(n, lead.Update{Paths: []string{"country"}, Details: lead.Details{Country: "JP"}}, p, roundRobin(), t0.Add(2*day))
		require.NoError(t, err)
		assert.Equal(t, []string{"LeadDetailsUpdated", "LeadTerritoryChanged", "LeadScored"}, types(evs))
		assert.Equal(t, "r1", lead.ApplyAll(n, evs...).OwnerID)
	})
	t.Run("a manually chosen owner stays", func(t *testing.T) {
		t.Parallel()
		l := create(t, details())
		evs, err := lead.Assign(l, lead.Assignment{OwnerID: "max"}, t0)
		l = apply(t, l, evs, err)
		evs, err = lead.UpdateDetails(l, lead.Update{Paths: []string{"country"}, Details: lead.Details{Country: "DE"}}, p, roundRobin(), t0)
		require.NoError(t, err)
		assert.Equal(t, []string{"LeadDetailsUpdated", "LeadTerritoryChanged", "LeadScored"}, types(evs))
	})
	t.Run("fit change qualifies automatically", func(t *testing.T) {
		t.Parallel()
		d := details()
		d.Country, d.EmployeeCount = "US", 200 // fit 30
		l := create(t, d)
		require.EqualValues(t, 30, l.Score.Fit)
		evs, err := lead.UpdateDetails(l, lead.Update{Paths: []string{"job_title", "industry"},
			Details: lead.Details{JobTitle: "CEO", Industry: "Software"}}, p, nil, t0.Add(3*day))
		require.NoError(t, err)
		require.Equal(t, []string{"LeadDetailsUpdated", "LeadScored", "LeadStatusChanged"}, types(evs))
		sc := evs[2].(lead.LeadStatusChanged)
		assert.True(t, sc.Automatic)
		assert.Equal(t, 3*day, sc.TimeInPrevious)
		assert.Equal(t, lead.StatusMQL, lead.ApplyAll(l, evs...).Status)
	})
	t.Run("utm and custom fields", func(t *testing.T) {
		t.Parallel()
		d := details()
		d.CustomFields = map[string]customfield.Value{"plan": customfield.StringValue("pro"), "seats": customfield.NumberValue(5)}
		l := create(t, d)
		evs, err := lead.UpdateDetails(l, lead.Update{Paths: []string{"utm", "custom_fields.plan", "custom_fields.seats"},
			Details: lead.Details{UTM: lead.UTM{Source: "google", Medium: "cpc"},
				CustomFields: map[string]customfield.Value{"seats": customfield.NumberValue(7)}}}, p, nil, t0)
		require.NoError(t, err)
		u := evs[0].(lead.LeadDetailsUpdated)
		assert.Equal(t, []string{"utm.source", "utm.medium", "custom_fields.plan", "custom_fields.seats"}, u.Changed)
		assert.Equal(t, map[string]customfield.Value{"seats": customfield.NumberValue(7)}, u.After.CustomFields)
		n := lead.ApplyAll(l, evs...)
		assert.Equal(t, map[string]customfield.Value{"seats": customfield.NumberValue(7)}, n.CustomFields)
		assert.Len(t, l.CustomFields, 2, "the input state is not modified")

		evs, err = lead.UpdateDetails(n, lead.Update{Paths: []string{"custom_fields"}}, p, nil, t0)
		require.NoError(t, err)
		assert.Equal(t, []string{"custom_fields.seats"}, evs[0].(lead.LeadDetailsUpdated).Changed)
		assert.Empty(t, lead.ApplyAll(n, evs...).CustomFields)
	})
	t.Run("only touched fields are validated", func(t *testing.T) {
		t.Parallel()
		d := details()
		d.CustomFields = map[string]customfield.Value{"plan": customfield.StringValue("pro")}
		l := create(t, d)
		q := policy()
		delete(q.CustomFields, "plan") // definition removed after the value was stored
		evs, err := lead.UpdateDetails(l, lead.Update{Paths: []string{"phone"}, Details: lead.Details{Phone: "+1 555 123 4567"}}, q, nil, t0)
		require.NoError(t, err)
		assert.Len(t, evs, 1)
		_, err = lead.UpdateDetails(l, lead.Update{Paths: []string{"custom_fields.plan", "employee_count"},
			Details: lead.Details{EmployeeCount: -3, CustomFields: map[string]customfield.Value{"plan": customfield.StringValue("x")}}}, q, nil, t0)
		assert.Equal(t, []string{"employee_count", "custom_fields.plan"}, violations(t, err))
	})
	t.Run("required custom field cannot be cleared", func(t *testing.T) {
		t.Parallel()
		q := policy()
		q.CustomFields["plan"] = customfield.Definition{Name: "plan", Type: customfield.TypeString, Required: true}
		d := details()
		d.CustomFields = map[string]customfield.Value{"plan": customfield.StringValue("pro")}
		evs, err := lead.Create(lead.Lead{}, lead.NewLead{ID: "l1", Details: d}, q, nil, t0)
		l := apply(t, lead.Lead{}, evs, err)
		_, err = lead.UpdateDetails(l, lead.Update{Paths: []string{"custom_fields.plan"}}, q, nil, t0)
		assert.Equal(t, []string{"custom_fields.plan"}, violations(t, err))
	})
	t.Run("closed leads", func(t *testing.T) {
		t.Parallel()
		upd := lead.Update{Paths: []string{"city"}, Details: lead.Details{City: "Berlin"}}
		_, err := lead.UpdateDetails(lead.Lead{}, upd, p, nil, t0)
		assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
		reason, msg := precondition(t, errOf(lead.UpdateDetails(inStatus(t, lead.StatusConverted), upd, p, nil, t0)))
		assert.Equal(t, lead.ReasonConverted, reason)
		assert.Contains(t, msg, "CONVERTED")
		merged := lead.Apply(create(t, details()), lead.LeadMergedInto{SurvivorLeadID: "l9", At: t0})
		reason, _ = precondition(t, errOf(lead.UpdateDetails(merged, upd, p, nil, t0)))
		assert.Equal(t, lead.ReasonMerged, reason)
	})
}

// errOf keeps only a decision's error.
func errOf(_ []lead.Event, err error) error { return err }
