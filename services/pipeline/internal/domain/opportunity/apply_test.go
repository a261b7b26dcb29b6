package opportunity_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

// TestLifecycleFold runs an opportunity through its life with decisions and checks that folding
// the recorded events alone rebuilds the same state.
func TestLifecycleFold(t *testing.T) {
	t.Parallel()
	p, pol := pipe(), policy()
	var log []opportunity.Event
	var o opportunity.Opportunity
	step := func(evs []opportunity.Event, err error) {
		t.Helper()
		require.NoError(t, err)
		log = append(log, evs...)
		o = opportunity.ApplyAll(o, evs...)
	}
	cmd := newOpp()
	cmd.Details.CustomFields = map[string]customfield.Value{"plan": customfield.StringValue("pro")}
	step(opportunity.Create(o, cmd, p, pol, t0))
	step(opportunity.UpdateDetails(o, opportunity.Update{Paths: []string{"next_step"}, Details: opportunity.Details{NextStep: "demo"}}, pol, t0.Add(day)))
	step(opportunity.MoveStage(o, opportunity.StageMove{StageID: "qualification", MovedBy: "olga"}, p, t0.Add(2*day)))
	step(opportunity.UpdateProbability(o, ptr[int32](30), t0.Add(3*day)))
	step(opportunity.UpdateCloseDate(o, date(2025, 7, 15), pol, t0.Add(3*day)))
	step(opportunity.SetContactRoles(o, []opportunity.ContactRole{{ContactID: "c1", Role: opportunity.RoleChampion, Primary: true}}, t0.Add(3*day)))
	step(opportunity.MoveStage(o, opportunity.StageMove{StageID: "proposal", MovedBy: "olga"}, p, t0.Add(5*day)))
	step(opportunity.CreateQuote(o, offer("q1"), t0.Add(5*day)))
	step(opportunity.ReviseQuote(o, draft("q1", "9500"), t0.Add(6*day)))
	step(opportunity.SendQuote(o, opportunity.QuoteRef{QuoteID: "q1"}, t0.Add(6*day)))
	step(opportunity.AcceptQuote(o, opportunity.QuoteRef{QuoteID: "q1", Version: 2}, t0.Add(8*day)))
	step(opportunity.Assign(o, opportunity.Assignment{OwnerID: "max"}, t0.Add(8*day)))
	step(opportunity.MoveStage(o, opportunity.StageMove{StageID: "negotiation", MovedBy: "max"}, p, t0.Add(9*day)))
	step(opportunity.MarkLost(o, opportunity.Loss{Reason: opportunity.LostNoDecision, MovedBy: "max"}, p, t0.Add(12*day)))
	step(opportunity.Reopen(o, opportunity.Reopening{MovedBy: "max"}, p, t0.Add(20*day)))
	step(opportunity.MarkWon(o, opportunity.Win{Note: "signed", MovedBy: "max"}, p, t0.Add(21*day)))

	assert.Equal(t, []string{"OpportunityCreated", "OpportunityDetailsUpdated", "OpportunityStageChanged",
		"OpportunityProbabilityChanged", "OpportunityCloseDateChanged", "OpportunityContactRolesChanged",
		"OpportunityStageChanged", "QuoteCreated", "QuoteRevised", "QuoteSent", "QuoteAccepted", "OpportunityAmountChanged",
		"OpportunityOwnerChanged", "OpportunityStageChanged", "OpportunityStageChanged", "OpportunityLost",
		"OpportunityReopened", "OpportunityStageChanged", "OpportunityStageChanged", "OpportunityWon"}, types(log))

	folded := opportunity.ApplyAll(opportunity.Opportunity{}, log...)
	assert.Equal(t, o, folded)
	assert.EqualValues(t, len(log), folded.Version)
	assert.Equal(t, opportunity.StatusWon, folded.Status)
	assert.Equal(t, "closed_won", folded.StageID)
	assert.Equal(t, "EUR 9500.00", folded.Amount.String())
	assert.Equal(t, "max", folded.OwnerID)
	assert.Equal(t, date(2025, 7, 15), folded.ExpectedCloseDate)
	assert.Equal(t, date(2025, 3, 24), folded.Close.ClosedOn)
	assert.Equal(t, pipelinedef.CategoryClosed, folded.ForecastCategory)
	assert.Len(t, folded.Quotes, 2)
	assert.Equal(t, t0.Add(21*day), folded.UpdatedAt)

	var path []string
	for _, v := range folded.StageHistory {
		path = append(path, v.StageID)
	}
	assert.Equal(t, []string{"prospecting", "qualification", "proposal", "negotiation", "closed_lost", "negotiation", "closed_won"}, path)
	assert.Equal(t, 3*day+day, folded.TimeInStage("negotiation", t0.Add(30*day)), "3 days before the loss, 1 after the reopen")
	v1, _ := folded.QuoteVersion("q1", 1)
	v2, _ := folded.QuoteVersion("q1", 2)
	assert.Equal(t, quote.StatusSuperseded, v1.Status)
	assert.Equal(t, quote.StatusAccepted, v2.Status)
}

func TestApplyDoesNotModifyItsInput(t *testing.T) {
	t.Parallel()
	d := opportunity.Details{Name: "x", Tags: []string{"a"}, CustomFields: map[string]customfield.Value{"plan": customfield.StringValue("pro")}}
	created := opportunity.OpportunityCreated{Opportunity: opportunity.Opportunity{ID: "o1", Details: d,
		StageHistory: []opportunity.StageVisit{{StageID: "a", EnteredAt: t0}}}, At: t0}
	o := opportunity.Apply(opportunity.Opportunity{}, created)
	d.CustomFields["plan"] = customfield.StringValue("changed after the fact")
	d.Tags[0] = "changed"
	assert.Equal(t, customfield.StringValue("pro"), o.CustomFields["plan"], "the event's map is not shared")
	assert.Equal(t, []string{"a"}, o.Tags)

	n := opportunity.Apply(o, opportunity.OpportunityStageChanged{ToStageID: "b", At: t0.Add(day)})
	assert.True(t, o.StageHistory[0].LeftAt.IsZero(), "closing the visit did not write into the old state")
	assert.Equal(t, t0.Add(day), n.StageHistory[0].LeftAt)
	assert.EqualValues(t, 1, o.Version)
	assert.EqualValues(t, 2, n.Version)

	// ApplyAll folds several events into one copy: the state Apply gives one event at a time,
	// and its input untouched as well.
	evs := []opportunity.Event{opportunity.OpportunityStageChanged{ToStageID: "b", At: t0.Add(day)},
		opportunity.OpportunityStageChanged{ToStageID: "c", At: t0.Add(2 * day)},
		opportunity.OpportunityOwnerChanged{New: "max", At: t0.Add(3 * day)}}
	oneByOne := o
	for _, e := range evs {
		oneByOne = opportunity.Apply(oneByOne, e)
	}
	all := opportunity.ApplyAll(o, evs...)
	assert.Equal(t, oneByOne, all)
	assert.Len(t, all.StageHistory, 3)
	assert.Len(t, o.StageHistory, 1, "the input's history is not appended to")
	assert.True(t, o.StageHistory[0].LeftAt.IsZero(), "nor its last visit closed")
	assert.Empty(t, o.OwnerID)
}
