package opportunity_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

func move(t *testing.T, o opportunity.Opportunity, stage string, at time.Time) opportunity.Opportunity {
	t.Helper()
	evs, err := opportunity.MoveStage(o, opportunity.StageMove{StageID: stage, MovedBy: "olga"}, pipe(), at)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	return opportunity.ApplyAll(o, evs...)
}

func TestMoveStage(t *testing.T) {
	t.Parallel()
	t.Run("forward carries what consumers need", func(t *testing.T) {
		t.Parallel()
		o := create(t)
		at := t0.Add(36 * time.Hour)
		evs, err := opportunity.MoveStage(o, opportunity.StageMove{StageID: " proposal ", MovedBy: "max"}, pipe(), at)
		require.NoError(t, err)
		assert.Equal(t, []opportunity.Event{opportunity.OpportunityStageChanged{PipelineID: "default",
			FromStageID: "prospecting", FromStageName: "Prospecting", ToStageID: "proposal", ToStageName: "Proposal/Price Quote",
			FromCategory: pipelinedef.CategoryPipeline, ToCategory: pipelinedef.CategoryBestCase, Amount: o.Amount,
			Probability: 75, TimeInPrevious: 36 * time.Hour, MovedBy: "max", OwnerID: "olga",
			Direction: opportunity.DirectionForward, At: at}}, evs)
		n := opportunity.ApplyAll(o, evs...)
		assert.Equal(t, "proposal", n.StageID)
		assert.EqualValues(t, 75, n.Probability)
		assert.Equal(t, pipelinedef.CategoryBestCase, n.ForecastCategory)
		assert.Equal(t, at, n.StageEnteredAt)
		assert.Equal(t, []opportunity.StageVisit{
			{StageID: "prospecting", StageName: "Prospecting", EnteredAt: t0, LeftAt: at},
			{StageID: "proposal", StageName: "Proposal/Price Quote", EnteredAt: at, MovedBy: "max"},
		}, n.StageHistory)
	})
	t.Run("backward", func(t *testing.T) {
		t.Parallel()
		o := move(t, create(t), "negotiation", t0.Add(day))
		evs, err := opportunity.MoveStage(o, opportunity.StageMove{StageID: "qualification", MovedBy: "olga"}, pipe(), t0.Add(3*day))
		require.NoError(t, err)
		sc := evs[0].(opportunity.OpportunityStageChanged)
		assert.Equal(t, opportunity.DirectionBackward, sc.Direction)
		assert.Equal(t, 2*day, sc.TimeInPrevious)
		assert.Equal(t, pipelinedef.CategoryCommit, sc.FromCategory)
		assert.EqualValues(t, 20, sc.Probability)
	})
	t.Run("a move clears probability and category overrides", func(t *testing.T) {
		t.Parallel()
		o := create(t)
		evs, err := opportunity.UpdateProbability(o, ptr[int32](42), t0)
		o = apply(t, o, evs, err)
		evs, err = opportunity.UpdateForecastCategory(o, ptr(pipelinedef.CategoryCommit), t0)
		o = apply(t, o, evs, err)
		evs, err = opportunity.MoveStage(o, opportunity.StageMove{StageID: "needs_analysis", MovedBy: "olga"}, pipe(), t0.Add(day))
		require.NoError(t, err)
		require.Equal(t, []string{"OpportunityStageChanged"}, types(evs), "the probability change rides in the stage change")
		sc := evs[0].(opportunity.OpportunityStageChanged)
		assert.Equal(t, pipelinedef.CategoryCommit, sc.FromCategory, "from is the effective category")
		n := opportunity.ApplyAll(o, evs...)
		assert.EqualValues(t, 25, n.Probability)
		assert.False(t, n.ProbabilityOverridden)
		assert.Equal(t, pipelinedef.CategoryPipeline, n.ForecastCategory)
		assert.False(t, n.CategoryOverridden)
	})
	t.Run("same stage, no events", func(t *testing.T) {
		t.Parallel()
		evs, err := opportunity.MoveStage(create(t), opportunity.StageMove{StageID: "prospecting", MovedBy: "olga"}, pipe(), t0)
		require.NoError(t, err)
		assert.Empty(t, evs)
	})
	t.Run("bad moves", func(t *testing.T) {
		t.Parallel()
		o := create(t)
		for _, tc := range []struct {
			name   string
			cmd    opportunity.StageMove
			fields []string
		}{
			{"won stage", opportunity.StageMove{StageID: "closed_won", MovedBy: "olga"}, []string{"stage_id"}},
			{"lost stage", opportunity.StageMove{StageID: "closed_lost", MovedBy: "olga"}, []string{"stage_id"}},
			{"stage of another pipeline", opportunity.StageMove{StageID: "upcoming", MovedBy: "olga"}, []string{"stage_id"}},
			{"no stage, no mover", opportunity.StageMove{}, []string{"stage_id", "moved_by"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				evs, err := opportunity.MoveStage(o, tc.cmd, pipe(), t0)
				assert.Nil(t, evs)
				assert.Equal(t, tc.fields, violations(t, err))
			})
		}
	})
	t.Run("wrong pipeline passed", func(t *testing.T) {
		t.Parallel()
		p := pipe()
		p.ID = "other"
		_, err := opportunity.MoveStage(create(t), opportunity.StageMove{StageID: "qualification", MovedBy: "olga"}, p, t0)
		assert.Equal(t, apperr.Internal, apperr.KindOf(err))
	})
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		_, err := opportunity.MoveStage(opportunity.Opportunity{}, opportunity.StageMove{StageID: "qualification", MovedBy: "olga"}, pipe(), t0)
		assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
	})
	t.Run("out of a stage the pipeline removed", func(t *testing.T) {
		t.Parallel()
		o := move(t, create(t), "needs_analysis", t0.Add(day))
		p := pipe()
		p.Stages = append(p.Stages[:2:2], p.Stages[3:]...) // needs_analysis removed
		evs, err := opportunity.MoveStage(o, opportunity.StageMove{StageID: "qualification", MovedBy: "olga"}, p, t0.Add(2*day))
		require.NoError(t, err)
		sc := evs[0].(opportunity.OpportunityStageChanged)
		assert.Equal(t, "Needs Analysis", sc.FromStageName, "history keeps the name it had")
		assert.Equal(t, opportunity.DirectionForward, sc.Direction)
	})
}

// TestStageDurationsBackAndForth moves A → B → A → B and checks that every stay is its own
// visit, every stage change carries the time of the stay it ends, and the time per stage is the
// sum of its visits.
func TestStageDurationsBackAndForth(t *testing.T) {
	t.Parallel()
	const a, b = "prospecting", "qualification"
	o := create(t) // enters A at t0
	var log []opportunity.Event
	steps := []struct {
		to string
		at time.Time
	}{
		{b, t0.Add(2 * day)},                    // A for 2 days
		{a, t0.Add(2*day + 5*time.Hour)},        // B for 5 hours
		{b, t0.Add(6*day + 5*time.Hour)},        // A for 4 days
		{"value_proposition", t0.Add(10 * day)}, // B for 3 days 19 hours
	}
	for _, s := range steps {
		evs, err := opportunity.MoveStage(o, opportunity.StageMove{StageID: s.to, MovedBy: "olga"}, pipe(), s.at)
		require.NoError(t, err)
		log = append(log, evs...)
		o = opportunity.ApplyAll(o, evs...)
	}
	var spent []time.Duration
	for _, e := range log {
		spent = append(spent, e.(opportunity.OpportunityStageChanged).TimeInPrevious)
	}
	assert.Equal(t, []time.Duration{2 * day, 5 * time.Hour, 4 * day, 3*day + 19*time.Hour}, spent)

	require.Len(t, o.StageHistory, 5)
	var visits []string
	for _, v := range o.StageHistory {
		visits = append(visits, v.StageID+" "+v.Duration(t0.Add(11*day)).String())
	}
	assert.Equal(t, []string{"prospecting 48h0m0s", "qualification 5h0m0s", "prospecting 96h0m0s",
		"qualification 91h0m0s", "value_proposition 24h0m0s"}, visits, "the current visit lasts until now")
	assert.Equal(t, 6*day, o.TimeInStage(a, t0.Add(11*day)))
	assert.Equal(t, 4*day, o.TimeInStage(b, t0.Add(11*day)))
	assert.Equal(t, day, o.TimeInStage("value_proposition", t0.Add(11*day)))
	for i, v := range o.StageHistory[:4] {
		assert.Equal(t, o.StageHistory[i+1].EnteredAt, v.LeftAt, "visits are contiguous")
	}
}

func TestMarkWon(t *testing.T) {
	t.Parallel()
	t.Run("with a final amount", func(t *testing.T) {
		t.Parallel()
		o := move(t, create(t), "negotiation", t0.Add(day))
		at := t0.Add(10 * day)
		final := eur("12500")
		evs, err := opportunity.MarkWon(o, opportunity.Win{FinalAmount: &final, Note: " best fit ", MovedBy: "olga"}, pipe(), at)
		require.NoError(t, err)
		require.Equal(t, []string{"OpportunityStageChanged", "OpportunityAmountChanged", "OpportunityWon"}, types(evs))
		sc := evs[0].(opportunity.OpportunityStageChanged)
		assert.Equal(t, "closed_won", sc.ToStageID)
		assert.EqualValues(t, 100, sc.Probability)
		assert.Equal(t, pipelinedef.CategoryClosed, sc.ToCategory)
		assert.Equal(t, 9*day, sc.TimeInPrevious)
		ac := evs[1].(opportunity.OpportunityAmountChanged)
		assert.Equal(t, opportunity.AmountWon, ac.Reason)
		assert.Equal(t, "EUR 10000.00", ac.Old.String())
		w := evs[2].(opportunity.OpportunityWon)
		assert.Equal(t, "EUR 12500.00", w.FinalAmount.String())
		assert.Equal(t, "best fit", w.Note)
		assert.Equal(t, date(2025, 3, 13), w.ClosedOn, "today by default")
		assert.Equal(t, "negotiation", w.FromStageID)
		assert.Equal(t, 9*day, w.TimeInPrevious)
		assert.EqualValues(t, 10, w.DaysOpen)
		assert.Equal(t, opportunity.Deal{PipelineID: "default", OwnerID: o.OwnerID, AccountID: o.AccountID, LeadID: o.LeadID,
			PrimaryCampaignID: o.PrimaryCampaignID, Source: o.Source}, w.Deal, "a close carries the deal's attributes")

		n := opportunity.ApplyAll(o, evs...)
		assert.Equal(t, opportunity.StatusWon, n.Status)
		assert.Equal(t, "closed_won", n.StageID)
		assert.Equal(t, "EUR 12500.00", n.Amount.String())
		assert.Equal(t, opportunity.Closing{ClosedOn: date(2025, 3, 13), Note: "best fit"}, n.Close)
	})
	t.Run("same amount, earlier close day", func(t *testing.T) {
		t.Parallel()
		o := create(t)
		final := eur("10000.00")
		evs, err := opportunity.MarkWon(o, opportunity.Win{FinalAmount: &final, ClosedOn: date(2025, 3, 1), MovedBy: "olga"}, pipe(), t0.Add(day))
		require.NoError(t, err)
		assert.Equal(t, []string{"OpportunityStageChanged", "OpportunityWon"}, types(evs))
		assert.EqualValues(t, 0, evs[1].(opportunity.OpportunityWon).DaysOpen, "never negative")
	})
	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		o := create(t)
		neg := eur("-1")
		_, err := opportunity.MarkWon(o, opportunity.Win{FinalAmount: &neg, ClosedOn: date(2025, 3, 4)}, pipe(), t0)
		assert.Equal(t, []string{"final_amount", "closed_on", "moved_by"}, violations(t, err))
	})
}

func TestMarkLost(t *testing.T) {
	t.Parallel()
	t.Run("to a competitor", func(t *testing.T) {
		t.Parallel()
		o := move(t, create(t), "proposal", t0.Add(day))
		evs, err := opportunity.MarkLost(o, opportunity.Loss{Reason: opportunity.LostCompetitor, Competitor: " Globex ",
			Note: "cheaper", MovedBy: "olga"}, pipe(), t0.Add(5*day))
		require.NoError(t, err)
		require.Equal(t, []string{"OpportunityStageChanged", "OpportunityLost"}, types(evs))
		sc := evs[0].(opportunity.OpportunityStageChanged)
		assert.Equal(t, "closed_lost", sc.ToStageID)
		assert.EqualValues(t, 0, sc.Probability)
		assert.Equal(t, pipelinedef.CategoryOmitted, sc.ToCategory)
		lost := evs[1].(opportunity.OpportunityLost)
		assert.Equal(t, "EUR 10000.00", lost.Amount.String(), "the lost revenue")
		lost.Amount = money.Money{}
		assert.Equal(t, opportunity.OpportunityLost{Reason: opportunity.LostCompetitor, Competitor: "Globex", Note: "cheaper",
			ClosedOn: date(2025, 3, 8), FromStageID: "proposal", TimeInPrevious: 4 * day, DaysOpen: 5,
			Deal: opportunity.Deal{PipelineID: o.PipelineID, OwnerID: o.OwnerID, AccountID: o.AccountID, LeadID: o.LeadID,
				PrimaryCampaignID: o.PrimaryCampaignID, Source: o.Source},
			At: t0.Add(5 * day)}, lost)
		n := opportunity.ApplyAll(o, evs...)
		assert.Equal(t, opportunity.StatusLost, n.Status)
		assert.Equal(t, opportunity.Closing{ClosedOn: date(2025, 3, 8), Note: "cheaper", LostReason: opportunity.LostCompetitor,
			Competitor: "Globex"}, n.Close)
		assert.Equal(t, "EUR 10000.00", n.Amount.String(), "a lost deal keeps its amount")
	})
	t.Run("into a chosen lost stage", func(t *testing.T) {
		t.Parallel()
		p := pipe()
		p.Stages = append(p.Stages, pipelinedef.Stage{ID: "no_budget", Name: "Lost: no budget",
			Category: pipelinedef.CategoryOmitted, Kind: pipelinedef.KindLost})
		o := create(t)
		evs, err := opportunity.MarkLost(o, opportunity.Loss{Reason: opportunity.LostTiming, StageID: "no_budget", MovedBy: "olga"}, p, t0)
		require.NoError(t, err)
		assert.Equal(t, "no_budget", evs[0].(opportunity.OpportunityStageChanged).ToStageID)
		_, err = opportunity.MarkLost(o, opportunity.Loss{Reason: opportunity.LostTiming, StageID: "negotiation", MovedBy: "olga"}, p, t0)
		assert.Equal(t, []string{"stage_id"}, violations(t, err))
	})
	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		o := create(t)
		_, err := opportunity.MarkLost(o, opportunity.Loss{Reason: opportunity.LostCompetitor, MovedBy: "olga"}, pipe(), t0)
		assert.Equal(t, []string{"competitor"}, violations(t, err), "a loss to a competitor names it")
		_, err = opportunity.MarkLost(o, opportunity.Loss{ClosedOn: date(2025, 13, 1), MovedBy: "olga"}, pipe(), t0)
		assert.Equal(t, []string{"reason", "closed_on"}, violations(t, err))
	})
}

func TestReopen(t *testing.T) {
	t.Parallel()
	t.Run("back to the last open stage", func(t *testing.T) {
		t.Parallel()
		o := move(t, create(t), "negotiation", t0.Add(day))
		evs, err := opportunity.MarkLost(o, opportunity.Loss{Reason: opportunity.LostTiming, MovedBy: "olga"}, pipe(), t0.Add(2*day))
		o = apply(t, o, evs, err)
		evs, err = opportunity.Reopen(o, opportunity.Reopening{MovedBy: "max"}, pipe(), t0.Add(5*day))
		require.NoError(t, err)
		require.Equal(t, []string{"OpportunityReopened", "OpportunityStageChanged"}, types(evs))
		assert.Equal(t, opportunity.OpportunityReopened{ToStageID: "negotiation", ToStageName: "Negotiation/Review",
			PreviousStatus: opportunity.StatusLost, At: t0.Add(5 * day)}, evs[0])
		sc := evs[1].(opportunity.OpportunityStageChanged)
		assert.Equal(t, "closed_lost", sc.FromStageID)
		assert.Equal(t, 3*day, sc.TimeInPrevious)
		assert.Equal(t, opportunity.DirectionBackward, sc.Direction)
		n := opportunity.ApplyAll(o, evs...)
		assert.Equal(t, opportunity.StatusOpen, n.Status)
		assert.Equal(t, opportunity.Closing{}, n.Close)
		assert.EqualValues(t, 90, n.Probability)
		assert.Equal(t, pipelinedef.CategoryCommit, n.ForecastCategory)
		assert.Len(t, n.StageHistory, 4)

		// Reopened deals accept commands again, and can be won.
		evs, err = opportunity.MarkWon(n, opportunity.Win{MovedBy: "max"}, pipe(), t0.Add(6*day))
		assert.Equal(t, opportunity.StatusWon, apply(t, n, evs, err).Status)
	})
	t.Run("to a chosen stage", func(t *testing.T) {
		t.Parallel()
		o := won(t)
		evs, err := opportunity.Reopen(o, opportunity.Reopening{StageID: "qualification", MovedBy: "max"}, pipe(), t0.Add(2*day))
		require.NoError(t, err)
		assert.Equal(t, "qualification", evs[1].(opportunity.OpportunityStageChanged).ToStageID)
		assert.Equal(t, opportunity.StatusWon, evs[0].(opportunity.OpportunityReopened).PreviousStatus)
		_, err = opportunity.Reopen(o, opportunity.Reopening{StageID: "closed_lost", MovedBy: "max"}, pipe(), t0)
		assert.Equal(t, []string{"stage_id"}, violations(t, err))
		_, err = opportunity.Reopen(o, opportunity.Reopening{StageID: "nope"}, pipe(), t0)
		assert.Equal(t, []string{"stage_id", "moved_by"}, violations(t, err))
	})
	t.Run("last open stage removed from the pipeline", func(t *testing.T) {
		t.Parallel()
		o := won(t) // was in prospecting
		p := pipe()
		p.Stages = p.Stages[1:]
		evs, err := opportunity.Reopen(o, opportunity.Reopening{MovedBy: "max"}, p, t0.Add(2*day))
		require.NoError(t, err)
		assert.Equal(t, "qualification", evs[0].(opportunity.OpportunityReopened).ToStageID, "the first open stage")
	})
	t.Run("only closed opportunities", func(t *testing.T) {
		t.Parallel()
		reason, msg := precondition(t, errOf(opportunity.Reopen(create(t), opportunity.Reopening{MovedBy: "max"}, pipe(), t0)))
		assert.Equal(t, opportunity.ReasonNotClosed, reason)
		assert.Contains(t, msg, "OPEN")
		_, err := opportunity.Reopen(opportunity.Opportunity{}, opportunity.Reopening{MovedBy: "max"}, pipe(), t0)
		assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
	})
}
