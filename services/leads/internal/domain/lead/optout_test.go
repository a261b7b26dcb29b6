package lead_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

func TestOptOutFlags(t *testing.T) {
	t.Parallel()
	p := policy()
	t.Run("created with the flags", func(t *testing.T) {
		t.Parallel()
		d := details()
		d.DoNotContact = true
		evs, err := lead.Create(lead.Lead{}, lead.NewLead{ID: "l1", Details: d}, p, nil, t0)
		require.NoError(t, err)
		created := evs[0].(lead.LeadCreated)
		assert.True(t, created.Lead.DoNotContact, "LeadCreated carries the flag")
		assert.False(t, created.Lead.EmailOptOut)
	})
	t.Run("set and cleared by mask", func(t *testing.T) {
		t.Parallel()
		l := create(t, details())
		evs, err := lead.UpdateDetails(l, lead.Update{Paths: []string{"email_opt_out", "do_not_contact"},
			Details: lead.Details{EmailOptOut: true, DoNotContact: true, FirstName: "not in the mask"}}, p, nil, t0.Add(day))
		require.NoError(t, err)
		require.Equal(t, []string{"LeadDetailsUpdated"}, types(evs), "the flags are no fit fields: no rescore")
		u := evs[0].(lead.LeadDetailsUpdated)
		assert.Equal(t, []string{"email_opt_out", "do_not_contact"}, u.Changed)
		assert.Equal(t, lead.Details{}, u.Before)
		assert.Equal(t, lead.Details{EmailOptOut: true, DoNotContact: true}, u.After)
		n := lead.ApplyAll(l, evs...)
		assert.True(t, n.EmailOptOut)
		assert.True(t, n.DoNotContact)
		assert.Equal(t, "Jane", n.FirstName)

		evs, err = lead.UpdateDetails(n, lead.Update{Paths: []string{"email_opt_out"}}, p, nil, t0.Add(day))
		require.NoError(t, err)
		require.Len(t, evs, 1)
		n = lead.ApplyAll(n, evs...)
		assert.False(t, n.EmailOptOut, "a masked flag left false clears it")
		assert.True(t, n.DoNotContact)

		evs, err = lead.UpdateDetails(n, lead.Update{Paths: []string{"do_not_contact"}, Details: lead.Details{DoNotContact: true}}, p, nil, t0)
		require.NoError(t, err)
		assert.Empty(t, evs, "setting a flag that is already set changes nothing")
	})
	t.Run("a merge keeps an opt-out of the merged lead", func(t *testing.T) {
		t.Parallel()
		s := newLead(t, "s", details())
		md := lead.Details{Email: "jd@acme.com", Source: lead.SourceEvent, EmailOptOut: true}
		m := newLead(t, "m", md)
		res, err := lead.Merge(s, m, p, roundRobin(), t0.Add(day))
		require.NoError(t, err)
		merged := res.Survivor[0].(lead.LeadMerged)
		assert.Contains(t, merged.Gained, "email_opt_out")
		assert.True(t, lead.ApplyAll(s, res.Survivor...).EmailOptOut, "an unsubscribe is never lost by a merge")
	})
	assert.Contains(t, lead.Paths(), lead.PathEmailOptOut)
	assert.Contains(t, lead.Paths(), lead.PathDoNotContact)
}
