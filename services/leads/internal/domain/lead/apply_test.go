package lead_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

// TestLifecycleFold runs a lead through its whole life with decisions and checks that folding
// the recorded events alone rebuilds the same state.
func TestLifecycleFold(t *testing.T) {
	t.Parallel()
	p := policy()
	var log []lead.Event
	var l lead.Lead
	step := func(evs []lead.Event, err error) {
		t.Helper()
		require.NoError(t, err)
		log = append(log, evs...)
		l = lead.ApplyAll(l, evs...)
	}
	d := details()
	d.JobTitle, d.EmployeeCount, d.CustomFields = "Head of Operations", 300, map[string]customfield.Value{"plan": customfield.StringValue("trial")}
	step(lead.Create(l, lead.NewLead{ID: "l1", Details: d, Tags: []string{"webinar"}}, p, roundRobin(), t0)) // fit 40
	step(lead.UpdateDetails(l, lead.Update{Paths: []string{"country"}, Details: lead.Details{Country: "GB"}}, p, roundRobin(), t0.Add(day)))
	step(lead.RecordEngagement(l, lead.Signal{Signal: scoring.SignalFormFilled, OccurredAt: t0.Add(2 * day)}, p, t0.Add(2*day)))
	require.Equal(t, lead.StatusMQL, l.Status, "50 fit + 10 engagement reached 60")
	step(lead.ChangeStatus(l, lead.StatusChange{To: lead.StatusSAL, Reason: "accepted"}, p, t0.Add(3*day)))
	step(lead.SetBant(l, fullBant(), t0.Add(4*day)))
	step(lead.AddTags(l, []string{"hot-deal"}, t0.Add(4*day)))
	step(lead.Assign(l, lead.Assignment{OwnerID: "closer"}, t0.Add(5*day)))
	step(lead.ChangeStatus(l, lead.StatusChange{To: lead.StatusSQL}, p, t0.Add(6*day)))
	step(lead.Convert(l, lead.Conversion{ContactID: "c1", AccountID: "a1", OpportunityID: "o1", ConvertedBy: "closer"}, p.Settings, t0.Add(7*day)))

	assert.Equal(t, []string{"LeadCreated", "LeadDetailsUpdated", "LeadTerritoryChanged", "LeadAssigned", "LeadScored",
		"EngagementRecorded", "LeadScored", "LeadStatusChanged", "LeadStatusChanged", "BantUpdated", "LeadTagsAdded",
		"LeadAssigned", "LeadStatusChanged", "LeadStatusChanged", "LeadConverted"}, types(log))

	folded := lead.ApplyAll(lead.Lead{}, log...)
	assert.Equal(t, l, folded)
	assert.EqualValues(t, len(log), folded.Version)
	assert.Equal(t, lead.StatusConverted, folded.Status)
	assert.Equal(t, lead.PathScore, folded.QualificationPath)
	assert.Equal(t, "GB", folded.Country)
	assert.Equal(t, "emea", folded.TerritoryID)
	assert.Equal(t, "closer", folded.OwnerID)
	assert.Equal(t, lead.AssignManual, folded.AssignmentReason)
	assert.Equal(t, []string{"hot-deal", "webinar"}, folded.Tags)
	assert.Equal(t, fullBant(), folded.Bant)
	assert.Equal(t, "c1", folded.Converted.ContactID)
	assert.Equal(t, t0.Add(7*day), folded.StatusChangedAt)
	assert.Equal(t, t0.Add(7*day), folded.UpdatedAt)
	assert.Equal(t, t0, folded.CreatedAt)
	assert.Equal(t, scoring.Score{Fit: 50, Engagement: 10, Total: 60, Temperature: scoring.TemperatureWarm,
		ModelVersion: 1, ScoredAt: t0.Add(2 * day)}, folded.Score)

	// Every transition carries the time spent in the previous status.
	var spent []string
	for _, e := range log {
		if sc, ok := e.(lead.LeadStatusChanged); ok {
			spent = append(spent, sc.From.String()+":"+sc.TimeInPrevious.String())
		}
	}
	assert.Equal(t, []string{"NEW:48h0m0s", "MARKETING_QUALIFIED:24h0m0s", "SALES_ACCEPTED:72h0m0s", "SALES_QUALIFIED:24h0m0s"}, spent)
}

func TestApplyDoesNotModifyItsInput(t *testing.T) {
	t.Parallel()
	d := details()
	d.CustomFields = map[string]customfield.Value{"plan": customfield.StringValue("pro")}
	l := lead.Apply(lead.Lead{}, lead.LeadCreated{Lead: lead.Lead{ID: "l1", Details: d, Tags: []string{"b", "d"},
		MergedFromIDs: []string{"x"}}, At: t0})
	d.CustomFields["plan"] = customfield.StringValue("changed after the fact")
	assert.Equal(t, customfield.StringValue("pro"), l.CustomFields["plan"], "the event's map is not shared")

	before := lead.Apply(lead.Lead{}, lead.LeadCreated{Lead: l, At: t0})
	_ = lead.ApplyAll(before,
		lead.LeadTagsAdded{Tags: []string{"a", "c"}, At: t0},
		lead.LeadTagsRemoved{Tags: []string{"b"}, At: t0},
		lead.LeadDetailsUpdated{Changed: []string{"custom_fields.plan", "custom_fields.seats"},
			After: lead.Details{CustomFields: map[string]customfield.Value{"seats": customfield.NumberValue(1)}}, At: t0},
		lead.LeadMerged{MergedLeadID: "y", TagsGained: []string{"e"}, At: t0},
	)
	assert.Equal(t, []string{"b", "d"}, before.Tags)
	assert.Equal(t, map[string]customfield.Value{"plan": customfield.StringValue("pro")}, before.CustomFields)
	assert.Equal(t, []string{"x"}, before.MergedFromIDs)
}
