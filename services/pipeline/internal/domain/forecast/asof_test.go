package forecast_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/forecast"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// world is a tiny event store: it runs decisions at a moving clock, keeps the current state of
// every opportunity, and records every event with the time it was appended.
type world struct {
	t     *testing.T
	now   time.Time
	opps  map[string]opportunity.Opportunity
	log   []forecast.Recorded
	pol   opportunity.Policy
	pipe  pipelinedef.Pipeline
	owner string
}

func (w *world) do(id string, decide func(o opportunity.Opportunity) ([]opportunity.Event, error)) {
	w.t.Helper()
	evs, err := decide(w.opps[id])
	require.NoError(w.t, err)
	require.NotEmpty(w.t, evs)
	for _, e := range evs {
		w.log = append(w.log, forecast.Recorded{OpportunityID: id, RecordedAt: w.now, Event: e})
	}
	w.opps[id] = opportunity.ApplyAll(w.opps[id], evs...)
}

func (w *world) create(id, owner string, amount money.Money, closeDate civil.Date) {
	w.do(id, func(o opportunity.Opportunity) ([]opportunity.Event, error) {
		return opportunity.Create(o, opportunity.NewOpportunity{ID: id, Details: opportunity.Details{Name: id}, OwnerID: owner,
			Amount: amount, ExpectedCloseDate: closeDate}, w.pipe, w.pol, w.now)
	})
}

// current returns the snapshots computed from the live states right now.
func (w *world) current() []forecast.Snapshot {
	var out []forecast.Snapshot
	for _, o := range w.opps {
		out = append(out, forecast.SnapshotOf(o))
	}
	slices.SortFunc(out, func(a, b forecast.Snapshot) int { return strings.Compare(a.OpportunityID, b.OpportunityID) })
	return out
}

func render(f forecast.Forecast) string { return strings.Join(append(rows(f), totals(f)...), "\n") }

func renderSnaps(snaps []forecast.Snapshot) []string {
	var out []string
	for _, s := range snaps {
		out = append(out, fmt.Sprintf("%s %s %s %s %d %s %s %s", s.OpportunityID, s.OwnerID, s.Status, s.Amount, s.Probability,
			s.Category, s.ExpectedCloseDate, s.ClosedOn))
	}
	return out
}

// TestAsOfEqualsTheForecastAtThatMoment moves time forward through a quarter of deal activity;
// at checkpoints it computes the forecast from the live states. Afterwards, the forecast as of
// each checkpoint — folded from the whole log — must equal what was computed then.
func TestAsOfEqualsTheForecastAtThatMoment(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	w := &world{t: t, now: t0, opps: map[string]opportunity.Opportunity{}, pipe: pipelinedef.Default(),
		pol: opportunity.Policy{DefaultCurrency: "EUR"}}
	opts := []forecast.Options{
		{Period: forecast.PeriodMonth, ByOwner: true, ByCategory: true},
		{Period: forecast.PeriodQuarter, From: civil.New(2025, 4, 1), To: civil.New(2025, 6, 30)},
	}
	type checkpoint struct {
		at        time.Time
		snapshots []string
		forecasts []string
	}
	var checkpoints []checkpoint
	check := func() {
		snaps := w.current()
		c := checkpoint{at: w.now, snapshots: renderSnaps(snaps)}
		for _, o := range opts {
			c.forecasts = append(c.forecasts, render(forecast.Compute(snaps, o)))
		}
		checkpoints = append(checkpoints, c)
	}
	advance := func(d time.Duration) { w.now = w.now.Add(d) }
	move := func(id, stage string) {
		w.do(id, func(o opportunity.Opportunity) ([]opportunity.Event, error) {
			return opportunity.MoveStage(o, opportunity.StageMove{StageID: stage, MovedBy: "olga"}, w.pipe, w.now)
		})
	}

	check() // nothing yet
	advance(time.Minute)
	w.create("o1", "olga", money.MustParse("EUR", "10000"), civil.New(2025, 4, 30))
	w.create("o2", "max", money.MustParse("USD", "5000"), civil.New(2025, 5, 15))
	check()
	advance(26 * time.Hour)
	move("o1", "proposal")
	w.do("o2", func(o opportunity.Opportunity) ([]opportunity.Event, error) {
		return opportunity.UpdateAmount(o, money.MustParse("USD", "6000"), w.now)
	})
	check()
	advance(3 * 24 * time.Hour)
	w.create("o3", "olga", money.MustParse("EUR", "2000"), civil.New(2025, 5, 31))
	w.do("o1", func(o opportunity.Opportunity) ([]opportunity.Event, error) {
		return opportunity.UpdateCloseDate(o, civil.New(2025, 7, 31), w.pol, w.now) // pushed out of the quarter
	})
	check()
	advance(7 * 24 * time.Hour)
	w.do("o2", func(o opportunity.Opportunity) ([]opportunity.Event, error) {
		return opportunity.MarkWon(o, opportunity.Win{MovedBy: "max"}, w.pipe, w.now)
	})
	w.do("o3", func(o opportunity.Opportunity) ([]opportunity.Event, error) {
		return opportunity.MarkLost(o, opportunity.Loss{Reason: opportunity.LostPrice, MovedBy: "olga"}, w.pipe, w.now)
	})
	check()
	advance(14 * 24 * time.Hour)
	w.do("o2", func(o opportunity.Opportunity) ([]opportunity.Event, error) {
		return opportunity.Reopen(o, opportunity.Reopening{MovedBy: "max"}, w.pipe, w.now)
	})
	w.do("o1", func(o opportunity.Opportunity) ([]opportunity.Event, error) {
		return opportunity.UpdateProbability(o, ptr[int32](40), w.now)
	})
	w.do("o1", func(o opportunity.Opportunity) ([]opportunity.Event, error) {
		return opportunity.UpdateForecastCategory(o, ptr(pipelinedef.CategoryCommit), w.now)
	})
	check()
	advance(time.Hour)
	move("o2", "negotiation") // after the last checkpoint: never in an as-of view above

	require.Len(t, checkpoints, 6)
	for i, c := range checkpoints {
		t.Run(fmt.Sprintf("checkpoint %d at %s", i, c.at.Format(time.RFC3339)), func(t *testing.T) {
			t.Parallel()
			snaps := forecast.AsOf(w.log, c.at)
			assert.Equal(t, c.snapshots, renderSnaps(snaps))
			for j, o := range opts {
				assert.Equal(t, c.forecasts[j], render(forecast.Compute(snaps, o)), "options %d", j)
			}
		})
	}

	// The checkpoints saw different things: the test would pass vacuously otherwise.
	assert.Empty(t, checkpoints[0].snapshots)
	assert.NotEqual(t, checkpoints[2].forecasts, checkpoints[3].forecasts)
	assert.Contains(t, checkpoints[4].snapshots, "o2 max WON USD 6000.00 100 CLOSED 2025-05-15 2025-03-14")
	assert.Contains(t, checkpoints[5].snapshots, "o1 olga OPEN EUR 10000.00 40 COMMIT 2025-07-31 ")
	latest := forecast.AsOf(w.log, w.now)
	assert.Equal(t, renderSnaps(w.current()), renderSnaps(latest), "as of now is the current state")
}

func TestFoldAsOfSkipsLaterEvents(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	created := opportunity.OpportunityCreated{Opportunity: opportunity.Opportunity{ID: "o1", Amount: money.MustParse("EUR", "1"),
		Status: opportunity.StatusOpen}, At: t0}
	changed := opportunity.OpportunityAmountChanged{Old: money.MustParse("EUR", "1"), New: money.MustParse("EUR", "2"), At: t0.Add(time.Hour)}
	log := []forecast.Recorded{
		{OpportunityID: "o1", RecordedAt: t0, Event: created},
		// Recorded later than it occurred (e.g. an append retried after a timeout): it was
		// not known before it was recorded.
		{OpportunityID: "o1", RecordedAt: t0.Add(3 * time.Hour), Event: changed},
	}
	assert.Empty(t, forecast.FoldAsOf(log, t0.Add(-time.Nanosecond)))
	assert.Equal(t, "EUR 1.00", forecast.FoldAsOf(log, t0)["o1"].Amount.String(), "an event recorded exactly at T counts")
	assert.Equal(t, "EUR 1.00", forecast.FoldAsOf(log, t0.Add(2*time.Hour))["o1"].Amount.String())
	assert.Equal(t, "EUR 2.00", forecast.FoldAsOf(log, t0.Add(3*time.Hour))["o1"].Amount.String())
}

func ptr[T any](v T) *T { return &v }
