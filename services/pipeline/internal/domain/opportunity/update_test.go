package opportunity_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
)

func TestUpdateDetails(t *testing.T) {
	t.Parallel()
	p := policy()
	t.Run("changed fields with old and new values", func(t *testing.T) {
		t.Parallel()
		o := create(t)
		d := opportunity.Details{NextStep: " Demo on Friday ", Source: opportunity.SourceReferral, AccountID: "ignored",
			Competitors: []string{"Globex", "GLOBEX"}, Tags: []string{"Big Deal"}}
		evs, err := opportunity.UpdateDetails(o, opportunity.Update{
			Paths: []string{"tags", "source", "next_step", "competitors", "primary_campaign_id"}, Details: d}, p, t0.Add(day))
		require.NoError(t, err)
		require.Equal(t, []string{"OpportunityDetailsUpdated"}, types(evs))
		u := evs[0].(opportunity.OpportunityDetailsUpdated)
		assert.Equal(t, []string{"next_step", "source", "competitors", "tags"}, u.Changed, "canonical order; unchanged campaign left out")
		assert.Equal(t, opportunity.Details{}, u.Before)
		assert.Equal(t, opportunity.Details{NextStep: "Demo on Friday", Source: opportunity.SourceReferral,
			Competitors: []string{"Globex"}, Tags: []string{"big deal"}}, u.After)
		n := opportunity.ApplyAll(o, evs...)
		assert.Equal(t, "acc1", n.AccountID, "a field not in the mask keeps its value")
		assert.Equal(t, "Demo on Friday", n.NextStep)
		assert.Equal(t, t0.Add(day), n.UpdatedAt)
		assert.EqualValues(t, 2, n.Version)
	})
	t.Run("clearing a field", func(t *testing.T) {
		t.Parallel()
		o := create(t)
		evs, err := opportunity.UpdateDetails(o, opportunity.Update{Paths: []string{"account_id"}}, p, t0)
		require.NoError(t, err)
		u := evs[0].(opportunity.OpportunityDetailsUpdated)
		assert.Equal(t, opportunity.Details{AccountID: "acc1"}, u.Before)
		assert.Empty(t, opportunity.ApplyAll(o, evs...).AccountID)
		_, err = opportunity.UpdateDetails(o, opportunity.Update{Paths: []string{"name"}}, p, t0)
		assert.Equal(t, []string{"name"}, violations(t, err), "the name is required")
	})
	t.Run("no change, no events", func(t *testing.T) {
		t.Parallel()
		o := create(t)
		evs, err := opportunity.UpdateDetails(o, opportunity.Update{Paths: []string{"name", "account_id"},
			Details: opportunity.Details{Name: " Acme expansion ", AccountID: "acc1"}}, p, t0)
		require.NoError(t, err)
		assert.Empty(t, evs)
	})
	t.Run("unknown paths and bad values", func(t *testing.T) {
		t.Parallel()
		o := create(t)
		_, err := opportunity.UpdateDetails(o, opportunity.Update{Paths: []string{"name", "amount", "custom_fields.Bad", "primary_contact_id"},
			Details: opportunity.Details{Name: "ok", PrimaryContactID: "bad id"}}, p, t0)
		assert.Equal(t, []string{"update_mask.paths[1]", "update_mask.paths[2]", "primary_contact_id"}, violations(t, err))
		_, err = opportunity.UpdateDetails(o, opportunity.Update{}, p, t0)
		assert.Equal(t, []string{"update_mask.paths"}, violations(t, err))
	})
	t.Run("custom fields", func(t *testing.T) {
		t.Parallel()
		cmd := newOpp()
		cmd.Details.CustomFields = map[string]customfield.Value{"plan": customfield.StringValue("pro"), "seats": customfield.NumberValue(5)}
		evs, err := opportunity.Create(opportunity.Opportunity{}, cmd, pipe(), p, t0)
		o := apply(t, opportunity.Opportunity{}, evs, err)
		evs, err = opportunity.UpdateDetails(o, opportunity.Update{Paths: []string{"custom_fields.plan", "custom_fields.seats"},
			Details: opportunity.Details{CustomFields: map[string]customfield.Value{"seats": customfield.NumberValue(7)}}}, p, t0)
		require.NoError(t, err)
		u := evs[0].(opportunity.OpportunityDetailsUpdated)
		assert.Equal(t, []string{"custom_fields.plan", "custom_fields.seats"}, u.Changed)
		assert.Equal(t, map[string]customfield.Value{"seats": customfield.NumberValue(7)}, u.After.CustomFields)
		n := opportunity.ApplyAll(o, evs...)
		assert.Equal(t, map[string]customfield.Value{"seats": customfield.NumberValue(7)}, n.CustomFields)
		assert.Len(t, o.CustomFields, 2, "the input state is not modified")

		evs, err = opportunity.UpdateDetails(n, opportunity.Update{Paths: []string{"custom_fields"}}, p, t0)
		require.NoError(t, err)
		assert.Equal(t, []string{"custom_fields.seats"}, evs[0].(opportunity.OpportunityDetailsUpdated).Changed)
		assert.Empty(t, opportunity.ApplyAll(n, evs...).CustomFields)

		_, err = opportunity.UpdateDetails(n, opportunity.Update{Paths: []string{"custom_fields.seats"},
			Details: opportunity.Details{CustomFields: map[string]customfield.Value{"seats": customfield.BoolValue(true)}}}, p, t0)
		assert.Equal(t, []string{"custom_fields.seats"}, violations(t, err))
	})
	t.Run("only touched fields are validated", func(t *testing.T) {
		t.Parallel()
		cmd := newOpp()
		cmd.Details.CustomFields = map[string]customfield.Value{"plan": customfield.StringValue("pro")}
		evs, err := opportunity.Create(opportunity.Opportunity{}, cmd, pipe(), p, t0)
		o := apply(t, opportunity.Opportunity{}, evs, err)
		q := policy()
		delete(q.CustomFields, "plan") // definition removed after the value was stored
		evs, err = opportunity.UpdateDetails(o, opportunity.Update{Paths: []string{"next_step"},
			Details: opportunity.Details{NextStep: "call"}}, q, t0)
		require.NoError(t, err)
		assert.Len(t, evs, 1)
	})
	t.Run("missing and closed", func(t *testing.T) {
		t.Parallel()
		upd := opportunity.Update{Paths: []string{"next_step"}, Details: opportunity.Details{NextStep: "x"}}
		_, err := opportunity.UpdateDetails(opportunity.Opportunity{}, upd, p, t0)
		assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
		reason, msg := precondition(t, errOf(opportunity.UpdateDetails(won(t), upd, p, t0)))
		assert.Equal(t, opportunity.ReasonClosed, reason)
		assert.Contains(t, msg, "WON")
	})
}
