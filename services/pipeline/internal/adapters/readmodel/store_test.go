package readmodel

import (
	"context"
	"math/rand/v2"
	"path/filepath"
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

func TestReopenKeepsRowsAndCheckpointAndResetEmpties(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pipeline.db")
	log := history(4, 80, genStart, "t1")
	s := openStore(t, path)
	batches, _ := project(t, s, log, rand.New(rand.NewPCG(4, 4)), 10)
	last := batches[len(batches)-1].lastSeq
	before, err := s.Forecast(ctx, "t1", ForecastQuery{GroupByOwner: true})
	require.NoError(t, err)
	asOf := log[len(log)/2].RecordedAt
	beforeAsOf, err := s.Forecast(ctx, "t1", ForecastQuery{AsOf: asOf})
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s = openStore(t, path)
	ck, err := s.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{testStream: last}, ck)
	require.NoError(t, s.WaitFor(ctx, testStream, last))
	after, err := s.Forecast(ctx, "t1", ForecastQuery{GroupByOwner: true})
	require.NoError(t, err)
	assert.Equal(t, norm(before), norm(after))
	afterAsOf, err := s.Forecast(ctx, "t1", ForecastQuery{AsOf: asOf})
	require.NoError(t, err)
	assert.Equal(t, norm(beforeAsOf), norm(afterAsOf))

	require.NoError(t, s.Reset(ctx))
	ck, err = s.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Empty(t, ck)
	for _, table := range []string{"opportunities", "opportunity_history", "opportunity_tags", "pipelines", "contracts"} {
		assert.Zero(t, countRows(t, s, table), table)
	}
	// Rebuilt from the stream, it is the same again.
	project(t, s, log, rand.New(rand.NewPCG(5, 5)), 33)
	again, err := s.Forecast(ctx, "t1", ForecastQuery{GroupByOwner: true})
	require.NoError(t, err)
	assert.Equal(t, norm(before), norm(again))
}

func TestWaitForWakesOnApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "")
	done := make(chan error, 1)
	go func() { done <- s.WaitFor(ctx, testStream, 1) }()
	g := newGenerator(1, "t1", genStart)
	g.create()
	o := g.states[g.ids[0]]
	require.NoError(t, s.Apply(ctx, testStream, 1, Batch{Opportunities: []OpportunityChange{{Tenant: "t1", State: o, Seq: 1, RecordedAt: g.now}}}))
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("WaitFor did not wake")
	}
	got, err := s.GetOpportunity(ctx, "t1", o.ID)
	require.NoError(t, err)
	requireSameOpportunity(t, o, got)
}

func TestApplyRejectsBadChangesAndStoresNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "")
	g := newGenerator(2, "t1", genStart)
	g.create()
	o := g.states[g.ids[0]]
	good := OpportunityChange{Tenant: "t1", State: o, Seq: 1, RecordedAt: g.now}
	later := o
	later.Version = 5
	huge := o
	huge.Amount = money.MustParse("EUR", "0.0000000001")
	for name, c := range map[string]OpportunityChange{
		"no tenant":        {State: o, Seq: 1, RecordedAt: g.now},
		"no recorded time": {Tenant: "t1", State: o, Seq: 1},
		"not created":      {Tenant: "t1", State: opportunity.Opportunity{ID: "x"}, Seq: 1, RecordedAt: g.now},
		"history after state": {Tenant: "t1", State: o, Seq: 1, RecordedAt: g.now,
			History: []HistoryPoint{{State: later, RecordedAt: g.now}}},
		"history of another": {Tenant: "t1", State: later, Seq: 1, RecordedAt: g.now,
			History: []HistoryPoint{{State: opportunity.Opportunity{ID: "y", Version: 1}, RecordedAt: g.now}}},
		"amount beyond nanos": {Tenant: "t1", State: huge, Seq: 1, RecordedAt: g.now},
	} {
		t.Run(name, func(t *testing.T) {
			err := s.Apply(ctx, testStream, 1, Batch{Opportunities: []OpportunityChange{good, c}})
			require.ErrorIs(t, err, ErrBadChange)
		})
	}
	require.ErrorIs(t, s.Apply(ctx, "", 1, Batch{}), ErrBadChange)
	assert.Zero(t, countRows(t, s, "opportunities"))
	ck, err := s.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Empty(t, ck)
}

// TestVersionsOfOneInstantShowOnlyTheLast covers versions recorded in the same nanosecond in
// different batches: the earlier one was never visible, so its row goes, and a version that
// restores its predecessor's forecast fields reopens the predecessor's row.
func TestVersionsOfOneInstantShowOnlyTheLast(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "")
	g := newGenerator(3, "t1", genStart)
	p := pipelinedef.Default()
	const id = "o1"
	evs, err := opportunity.Create(opportunity.Opportunity{}, opportunity.NewOpportunity{ID: id, OwnerID: "olga",
		Details: opportunity.Details{Name: "Deal"}, Amount: money.MustParse("EUR", "1000"),
		ExpectedCloseDate: civil.DateOf(genStart).AddDays(40)}, p, genPolicy(), g.now)
	require.NoError(t, err)
	g.recordEvents(id, evs, nil)
	var log []forecast.Recorded
	seq := uint64(0)
	apply := func() {
		t.Helper()
		seq++
		r := g.log[len(g.log)-1]
		log = append(log, r.Recorded)
		require.NoError(t, s.Apply(ctx, testStream, seq, Batch{Opportunities: []OpportunityChange{{Tenant: "t1", State: g.states[id], Seq: seq, RecordedAt: r.RecordedAt}}}))
		checkHistoryInvariants(t, s)
	}
	probability := func() int {
		var prob int
		require.NoError(t, s.db.R.QueryRow(`SELECT probability FROM opportunity_history WHERE valid_to = ?`, int64(forever)).Scan(&prob))
		return prob
	}
	apply()
	t2 := g.now.Add(time.Hour)
	g.now = t2
	g.record(id)(opportunity.MoveStage(g.states[id], opportunity.StageMove{StageID: "proposal", MovedBy: "olga"}, p, g.now))
	apply()
	assert.Equal(t, 2, countRows(t, s, "opportunity_history"))
	assert.Equal(t, 75, probability())

	// Same instant, new forecast fields: the stored current row is replaced.
	g.record(id)(opportunity.UpdateProbability(g.states[id], ptr(int32(77)), g.now))
	apply()
	assert.Equal(t, 2, countRows(t, s, "opportunity_history"))
	assert.Equal(t, 77, probability())

	// Same instant, back to what the log showed before t2: one row again.
	g.record(id)(opportunity.MoveStage(g.states[id], opportunity.StageMove{StageID: "prospecting", MovedBy: "olga"}, p, g.now))
	apply()
	assert.Equal(t, 1, countRows(t, s, "opportunity_history"), "the changes at t2 cancel out")
	assert.Equal(t, 10, probability())
	for _, at := range []time.Time{t2.Add(-1), t2, t2.Add(1)} {
		got, err := s.Forecast(ctx, "t1", ForecastQuery{AsOf: at, GroupByCategory: true})
		require.NoError(t, err)
		assert.Equal(t, norm(forecast.Compute(forecast.AsOf(log, at), forecast.Options{ByCategory: true})), norm(got))
	}
}

func ptr[T any](v T) *T { return &v }

func TestClockSteppingBackDoesNotReorderVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "")
	g := newGenerator(4, "t1", genStart)
	g.create()
	id := g.ids[0]
	t1 := g.now
	require.NoError(t, s.Apply(ctx, testStream, 1, Batch{Opportunities: []OpportunityChange{{Tenant: "t1", State: g.states[id], Seq: 1, RecordedAt: t1}}}))
	g.now = t1.Add(time.Hour)
	g.record(id)(opportunity.UpdateCloseDate(g.states[id], civil.DateOf(t1).AddDays(200), genPolicy(), g.now))
	// Recorded a minute before the create, by a clock that stepped back.
	require.NoError(t, s.Apply(ctx, testStream, 2, Batch{Opportunities: []OpportunityChange{{Tenant: "t1", State: g.states[id], Seq: 2, RecordedAt: t1.Add(-time.Minute)}}}))
	checkHistoryInvariants(t, s)
	// The create was never visible alone; from t1 on the log shows the later version.
	got, err := s.Forecast(ctx, "t1", ForecastQuery{AsOf: t1})
	require.NoError(t, err)
	want := forecast.Compute([]forecast.Snapshot{forecast.SnapshotOf(g.states[id])}, forecast.Options{})
	assert.Equal(t, norm(want), norm(got))
}

func TestPipelines(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "")

	st, err := s.GetPipeline(ctx, "t1", pipelinedef.DefaultID)
	require.NoError(t, err)
	assert.True(t, st.Implicit())
	_, err = s.GetPipeline(ctx, "t1", "nope")
	requireKind(t, err, 2, "")

	define := func(id string, archive bool) pipelinedef.State {
		p := renewals()
		p.ID = id
		evs, err := pipelinedef.Define(pipelinedef.New(id), p, genStart)
		require.NoError(t, err)
		st := pipelinedef.ApplyAll(pipelinedef.New(id), evs...)
		if archive {
			evs, err := pipelinedef.Archive(st, genStart)
			require.NoError(t, err)
			st = pipelinedef.ApplyAll(st, evs...)
		}
		return st
	}
	var changes []PipelineChange
	for i, id := range []string{"alpha", "beta", "churn", "expansion", "zeta"} {
		changes = append(changes, PipelineChange{Tenant: "t1", State: define(id, id == "beta"), Seq: uint64(i + 1)})
	}
	changes = append(changes, PipelineChange{Tenant: "t2", State: define("other", false), Seq: 6})
	require.NoError(t, s.Apply(ctx, testStream, 6, Batch{Pipelines: changes}))
	// Redelivering an older state changes nothing.
	old := changes[1]
	old.State = define("beta", false)
	require.NoError(t, s.Apply(ctx, testStream, 6, Batch{Pipelines: []PipelineChange{old}}))

	list := func(archived bool, size int) []string {
		t.Helper()
		var out []string
		token := ""
		for {
			page, next, err := s.ListPipelines(ctx, "t1", archived, size, token)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page), size)
			for _, p := range page {
				out = append(out, p.ID)
			}
			if next == "" {
				return out
			}
			token = next
		}
	}
	for _, size := range []int{1, 2, 3, 100} {
		assert.Equal(t, []string{"alpha", "beta", "churn", "default", "expansion", "zeta"}, list(true, size))
		assert.Equal(t, []string{"alpha", "churn", "default", "expansion", "zeta"}, list(false, size))
	}
	got, err := s.GetPipeline(ctx, "t1", "beta")
	require.NoError(t, err)
	assert.Equal(t, define("beta", true), got)

	// Once the default pipeline has events, its stored state is listed.
	def := pipelinedef.Default()
	def.Name = "Sales"
	evs, err := pipelinedef.Revise(pipelinedef.New(pipelinedef.DefaultID), def, genStart)
	require.NoError(t, err)
	ds := pipelinedef.ApplyAll(pipelinedef.New(pipelinedef.DefaultID), evs...)
	require.NoError(t, s.Apply(ctx, testStream, 7, Batch{Pipelines: []PipelineChange{{Tenant: "t1", State: ds, Seq: 7}}}))
	page, _, err := s.ListPipelines(ctx, "t1", false, 0, "")
	require.NoError(t, err)
	require.Len(t, page, 5)
	assert.Equal(t, "Sales", page[2].Pipeline.Name)

	_, _, err = s.ListPipelines(ctx, "t1", true, 0, "junk")
	requireKind(t, err, 1, "page_token")
	_, next, err := s.ListPipelines(ctx, "t1", true, 1, "")
	require.NoError(t, err)
	_, _, err = s.ListPipelines(ctx, "t1", false, 1, next)
	requireKind(t, err, 1, "page_token")
}

func TestStatisticsAreRefreshedAsTheModelGrows(t *testing.T) {
	t.Parallel()
	s := openStore(t, "")
	s.nextAnalyze = 5
	project(t, s, history(9, 30, genStart, "t1"), rand.New(rand.NewPCG(9, 9)), 3)
	var n int
	require.NoError(t, s.db.R.QueryRow(`SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'opportunities'`).Scan(&n))
	assert.Positive(t, n)
	assert.Greater(t, s.nextAnalyze, 5)
}
