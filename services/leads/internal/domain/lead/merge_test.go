package lead_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

func newLead(t *testing.T, id string, d lead.Details, tags ...string) lead.Lead {
	t.Helper()
	evs, err := lead.Create(lead.Lead{}, lead.NewLead{ID: id, Details: d, Tags: tags}, policy(), nil, t0)
	return apply(t, lead.Lead{}, evs, err)
}

func TestMerge(t *testing.T) {
	t.Parallel()
	p := policy()
	survivorDetails := lead.Details{FirstName: "Jane", LastName: "Doe", Email: "jane@acme.com", Source: lead.SourceWebForm,
		CustomFields: map[string]customfield.Value{"plan": customfield.StringValue("pro")}}
	mergedDetails := lead.Details{FirstName: "J.", Email: "jd@acme.com", Phone: "+49 30 1234567", Company: "Acme GmbH",
		Country: "DE", Source: lead.SourceEvent, CustomFields: map[string]customfield.Value{
			"plan": customfield.StringValue("free"), "seats": customfield.NumberValue(3)}}

	t.Run("survivor gains what it lacks; merged ends disqualified", func(t *testing.T) {
		t.Parallel()
		s := newLead(t, "s", survivorDetails, "a")
		m := newLead(t, "m", mergedDetails, "a", "b")
		evs, err := lead.RecordEngagement(m, lead.Signal{Signal: scoring.SignalMeeting, OccurredAt: t0}, p, t0)
		m = apply(t, m, evs, err)
		now := t0.Add(30 * day)

		res, err := lead.Merge(s, m, p, roundRobin(), now)
		require.NoError(t, err)
		require.Equal(t, []string{"LeadMerged", "LeadTerritoryChanged", "LeadAssigned", "LeadScored"}, types(res.Survivor))
		merged := res.Survivor[0].(lead.LeadMerged)
		assert.Equal(t, "m", merged.MergedLeadID)
		assert.Equal(t, []string{"phone", "company", "country", "custom_fields.seats"}, merged.Gained)
		assert.Equal(t, lead.Details{Phone: "+49 30 1234567", Company: "Acme GmbH", Country: "DE",
			CustomFields: map[string]customfield.Value{"seats": customfield.NumberValue(3)}}, merged.Values)
		assert.Equal(t, []string{"b"}, merged.TagsGained)
		assert.InDelta(t, 7.5, merged.EngagementGained, 1e-9, "15 points one half-life ago")
		assert.Equal(t, lead.AssignTerritoryChange, res.Survivor[2].(lead.LeadAssigned).Reason)

		sn := lead.ApplyAll(s, res.Survivor...)
		assert.Equal(t, "jane@acme.com", sn.Email, "the survivor's own values win")
		assert.Equal(t, customfield.StringValue("pro"), sn.CustomFields["plan"])
		assert.Equal(t, []string{"a", "b"}, sn.Tags)
		assert.Equal(t, []string{"m"}, sn.MergedFromIDs)
		assert.Equal(t, "emea", sn.TerritoryID)
		assert.EqualValues(t, 8, sn.Score.Engagement)
		assert.Len(t, s.CustomFields, 1, "input state untouched")

		require.Equal(t, []string{"LeadStatusChanged", "LeadMergedInto"}, types(res.Merged))
		sc := res.Merged[0].(lead.LeadStatusChanged)
		assert.Equal(t, lead.DisqualifyDuplicate, sc.DisqualifyReason)
		assert.Equal(t, "merged into s", sc.Reason)
		mn := lead.ApplyAll(m, res.Merged...)
		assert.Equal(t, lead.StatusDisqualified, mn.Status)
		assert.Equal(t, "s", mn.MergedIntoID)

		// Re-running an interrupted merge completes it and never repeats a side.
		again, err := lead.Merge(s, mn, p, roundRobin(), now)
		require.NoError(t, err)
		assert.Empty(t, again.Merged)
		assert.Equal(t, res.Survivor, again.Survivor)
		done, err := lead.Merge(sn, mn, p, roundRobin(), now)
		require.NoError(t, err)
		assert.Empty(t, done.Merged)
		assert.Empty(t, done.Survivor)

		// A merged lead takes no further commands.
		_, err = lead.AddTags(mn, []string{"x"}, now)
		reason, _ := precondition(t, err)
		assert.Equal(t, lead.ReasonMerged, reason)
	})
	t.Run("owner of the merged lead fills a gap", func(t *testing.T) {
		t.Parallel()
		s := newLead(t, "s", survivorDetails)
		m := newLead(t, "m", lead.Details{LastName: "Doe", Source: lead.SourceOther})
		evs, err := lead.Assign(m, lead.Assignment{OwnerID: "max"}, t0)
		m = apply(t, m, evs, err)
		evs, err = lead.Disqualify(m, lead.DisqualifyJunk, "", p, t0)
		m = apply(t, m, evs, err)
		res, err := lead.Merge(s, m, p, nil, t0)
		require.NoError(t, err)
		assert.Equal(t, []string{"LeadMerged", "LeadAssigned"}, types(res.Survivor))
		assert.Equal(t, lead.AssignMerge, res.Survivor[1].(lead.LeadAssigned).Reason)
		assert.Equal(t, []string{"LeadMergedInto"}, types(res.Merged), "already disqualified: only the link")
		assert.Equal(t, lead.DisqualifyJunk, lead.ApplyAll(m, res.Merged...).DisqualifyReason)
	})
	t.Run("rules", func(t *testing.T) {
		t.Parallel()
		s := newLead(t, "s", survivorDetails)
		m := newLead(t, "m", mergedDetails)
		_, err := lead.Merge(s, s, p, nil, t0)
		assert.Equal(t, []string{"merged_lead_id"}, violations(t, err))

		_, err = lead.Merge(s, lead.Lead{}, p, nil, t0)
		assert.Equal(t, apperr.NotFound, apperr.KindOf(err))

		conv := lead.Apply(m, lead.LeadStatusChanged{From: lead.StatusSQL, To: lead.StatusConverted, At: t0})
		_, err = lead.Merge(s, conv, p, nil, t0)
		reason, _ := precondition(t, err)
		assert.Equal(t, lead.ReasonConverted, reason)
		_, err = lead.Merge(conv, s, p, nil, t0)
		reason, _ = precondition(t, err)
		assert.Equal(t, lead.ReasonConverted, reason)

		elsewhere := lead.Apply(m, lead.LeadMergedInto{SurvivorLeadID: "other", At: t0})
		_, err = lead.Merge(s, elsewhere, p, nil, t0)
		reason, msg := precondition(t, err)
		assert.Equal(t, lead.ReasonMerged, reason)
		assert.Equal(t, "lead m was merged into other", msg)
		_, err = lead.Merge(elsewhere, s, p, nil, t0)
		reason, _ = precondition(t, err)
		assert.Equal(t, lead.ReasonMerged, reason)
	})
}
