package lead_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

func TestRecordEngagement(t *testing.T) {
	t.Parallel()
	p := policy()
	t.Run("decayed running total and score", func(t *testing.T) {
		t.Parallel()
		l := create(t, details()) // fit 0
		evs, err := lead.RecordEngagement(l, lead.Signal{Signal: scoring.SignalMeeting, OccurredAt: t0, Detail: "demo"}, p, t0)
		require.NoError(t, err)
		require.Equal(t, []string{"EngagementRecorded", "LeadScored"}, types(evs))
		assert.Equal(t, lead.EngagementRecorded{Signal: scoring.SignalMeeting, Points: 15, SignalAt: t0, Detail: "demo",
			Engagement: scoring.Engagement{Value: 15, AsOf: t0}, At: t0}, evs[0])
		l = lead.ApplyAll(l, evs...)
		assert.EqualValues(t, 15, l.Score.Engagement)

		// 30 days later (one half-life) another meeting: 15·0.5 + 15 = 22.5 → 23.
		now := t0.Add(30 * day)
		evs, err = lead.RecordEngagement(l, lead.Signal{Signal: scoring.SignalMeeting, OccurredAt: now}, p, now)
		l = apply(t, l, evs, err)
		assert.InDelta(t, 22.5, l.Engagement.Value, 1e-9)
		assert.EqualValues(t, 23, l.Score.Engagement)
		assert.Equal(t, lead.TriggerEngagement, evs[1].(lead.LeadScored).Trigger)
		assert.Equal(t, now, l.LastEngagedAt)

		// A late signal from 10 days ago adds 10·0.5^(10/30) to the total.
		late := now.Add(-10 * day)
		evs, err = lead.RecordEngagement(l, lead.Signal{Signal: scoring.SignalCall, OccurredAt: late}, p, now)
		l = apply(t, l, evs, err)
		assert.InDelta(t, 22.5+10*0.7937005259840998, l.Engagement.Value, 1e-9)
		assert.Equal(t, now, l.LastEngagedAt, "a late signal does not move the last engagement back")
	})
	t.Run("zero points change nothing but the timeline", func(t *testing.T) {
		t.Parallel()
		l := create(t, details())
		evs, err := lead.RecordEngagement(l, lead.Signal{Signal: scoring.SignalNote, OccurredAt: t0}, p, t0)
		require.NoError(t, err)
		assert.Equal(t, []string{"EngagementRecorded"}, types(evs))
	})
	t.Run("crossing the MQL threshold qualifies automatically", func(t *testing.T) {
		t.Parallel()
		d := details()
		d.JobTitle, d.EmployeeCount = "Director of IT", 120 // fit 40
		l := create(t, d)
		evs, err := lead.RecordEngagement(l, lead.Signal{Signal: scoring.SignalMeeting, OccurredAt: t0}, p, t0)
		l = apply(t, l, evs, err)
		assert.Equal(t, lead.StatusNew, l.Status, "55 < 60")
		evs, err = lead.RecordEngagement(l, lead.Signal{Signal: scoring.SignalWebVisit, OccurredAt: t0, CampaignID: "spring"}, p, t0)
		l2 := apply(t, l, evs, err)
		assert.Equal(t, lead.StatusNew, l2.Status, "57 < 60")
		evs, err = lead.RecordEngagement(l2, lead.Signal{Signal: scoring.SignalFormFilled, OccurredAt: t0}, p, t0)
		require.NoError(t, err)
		require.Equal(t, []string{"EngagementRecorded", "LeadScored", "LeadStatusChanged"}, types(evs))
		sc := evs[2].(lead.LeadStatusChanged)
		assert.True(t, sc.Automatic)
		assert.Equal(t, lead.PathScore, sc.QualificationPath)
		assert.Equal(t, "total score 67 reached the MQL threshold 60 (scoring model v1)", sc.Reason)

		// The same crossing by product usage is a PQL.
		evs, err = lead.RecordEngagement(l2, lead.Signal{Signal: scoring.SignalProductUsage, OccurredAt: t0}, p, t0)
		require.NoError(t, err)
		sc = evs[2].(lead.LeadStatusChanged)
		assert.Equal(t, lead.PathProduct, sc.QualificationPath)
		assert.Equal(t, "product usage brought the total score to 65, reaching the MQL threshold 60 (scoring model v1)", sc.Reason)
	})
	t.Run("a recycled lead that engages comes back as a remarket lead", func(t *testing.T) {
		t.Parallel()
		l := inStatus(t, lead.StatusRecycled)
		evs, err := lead.RecordEngagement(l, lead.Signal{Signal: scoring.SignalUnsubscribed, OccurredAt: t0}, p, t0)
		require.NoError(t, err)
		assert.Equal(t, []string{"EngagementRecorded"}, types(evs), "negative engagement is no re-engagement; score stays clamped at 0")

		now := t0.Add(5 * day)
		evs, err = lead.RecordEngagement(l, lead.Signal{Signal: scoring.SignalEmailClicked, OccurredAt: now}, p, now)
		require.NoError(t, err)
		require.Equal(t, []string{"EngagementRecorded", "LeadStatusChanged", "LeadScored"}, types(evs))
		sc := evs[1].(lead.LeadStatusChanged)
		assert.Equal(t, lead.LeadStatusChanged{From: lead.StatusRecycled, To: lead.StatusNew, TimeInPrevious: 5 * day,
			Automatic: true, Reason: "re-engaged: email_clicked", Remarket: true, Source: lead.SourceWebForm, At: now}, sc)
		n := lead.ApplyAll(l, evs...)
		assert.Equal(t, lead.StatusNew, n.Status)
		assert.True(t, n.Remarket)

		// The remarket flag travels with the rest of the run.
		evs, err = lead.ChangeStatus(n, lead.StatusChange{To: lead.StatusMQL}, p, now)
		require.NoError(t, err)
		assert.True(t, evs[0].(lead.LeadStatusChanged).Remarket)
	})
	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		l := create(t, details())
		_, err := lead.RecordEngagement(l, lead.Signal{}, p, t0)
		assert.Equal(t, []string{"signal", "occurred_at"}, violations(t, err))
		_, err = lead.RecordEngagement(l, lead.Signal{Signal: scoring.SignalCall, OccurredAt: t0.Add(lead.MaxSignalSkew + 1), CampaignID: "a b"}, p, t0)
		assert.Equal(t, []string{"occurred_at", "campaign_id"}, violations(t, err))
	})
	t.Run("converted leads take no engagement", func(t *testing.T) {
		t.Parallel()
		_, err := lead.RecordEngagement(inStatus(t, lead.StatusConverted), lead.Signal{Signal: scoring.SignalCall, OccurredAt: t0}, p, t0)
		reason, _ := precondition(t, err)
		assert.Equal(t, lead.ReasonConverted, reason)
	})
}

func TestRescore(t *testing.T) {
	t.Parallel()
	p := policy()
	d := details()
	d.JobTitle, d.EmployeeCount = "Director of IT", 120 // fit 40: warm
	l := create(t, d)
	evs, err := lead.RecordEngagement(l, lead.Signal{Signal: scoring.SignalMeeting, OccurredAt: t0}, p, t0)
	l = apply(t, l, evs, err)
	require.EqualValues(t, 55, l.Score.Total)

	evs, err = lead.Rescore(l, p, t0.Add(day))
	require.NoError(t, err)
	assert.Empty(t, evs, "15·0.5^(1/30) still rounds to 15")

	evs, err = lead.Rescore(l, p, t0.Add(60*day))
	require.NoError(t, err)
	require.Len(t, evs, 1)
	s := evs[0].(lead.LeadScored)
	assert.Equal(t, lead.TriggerRescore, s.Trigger)
	assert.EqualValues(t, 4, s.Score.Engagement, "15·0.25 = 3.75 → 4")
	assert.EqualValues(t, 44, s.Score.Total)

	// A new model version rescores too, and may qualify.
	p.Model.Version, p.Model.MQLThreshold = 2, 50
	evs, err = lead.Rescore(l, p, t0)
	require.NoError(t, err)
	assert.Equal(t, []string{"LeadScored", "LeadStatusChanged"}, types(evs))
	assert.EqualValues(t, 2, evs[0].(lead.LeadScored).Score.ModelVersion)

	evs, err = lead.Rescore(inStatus(t, lead.StatusConverted), p, t0.Add(60*day))
	require.NoError(t, err)
	assert.Empty(t, evs)
}
