package pipelinedef_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func violations(t *testing.T, err error) []string {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "want an apperr.Error, got %v", err)
	require.Equal(t, apperr.Invalid, e.Kind, "%v", err)
	var fields []string
	for _, f := range e.Fields {
		fields = append(fields, f.Field)
	}
	return fields
}

func reason(t *testing.T, err error) string {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "want an apperr.Error, got %v", err)
	require.Equal(t, apperr.FailedPrecondition, e.Kind, "%v", err)
	return e.Reason
}

func types(evs []pipelinedef.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.EventType())
	}
	return out
}

// renewals is a small valid pipeline.
func renewals() pipelinedef.Pipeline {
	return pipelinedef.Pipeline{ID: "renewals", Name: "Renewals", Stages: []pipelinedef.Stage{
		{ID: "upcoming", Name: "Upcoming", Probability: 50, Category: pipelinedef.CategoryPipeline, Kind: pipelinedef.KindOpen},
		{ID: "negotiating", Name: "Negotiating", Probability: 80, Category: pipelinedef.CategoryCommit, Kind: pipelinedef.KindOpen},
		{ID: "renewed", Name: "Renewed", Probability: 100, Category: pipelinedef.CategoryClosed, Kind: pipelinedef.KindWon},
		{ID: "churned", Name: "Churned", Probability: 0, Category: pipelinedef.CategoryOmitted, Kind: pipelinedef.KindLost},
	}}
}

func define(t *testing.T, p pipelinedef.Pipeline) pipelinedef.State {
	t.Helper()
	s := pipelinedef.New(p.ID)
	evs, err := pipelinedef.Define(s, p, t0)
	require.NoError(t, err)
	return pipelinedef.ApplyAll(s, evs...)
}

func TestDefault(t *testing.T) {
	t.Parallel()
	p := pipelinedef.Default()
	require.NoError(t, pipelinedef.Check(p))
	type row struct {
		name string
		prob int32
		cat  pipelinedef.Category
		kind pipelinedef.Kind
	}
	var got []row
	for _, s := range p.Stages {
		got = append(got, row{s.Name, s.Probability, s.Category, s.Kind})
	}
	pipe, open := pipelinedef.CategoryPipeline, pipelinedef.KindOpen
	assert.Equal(t, []row{
		{"Prospecting", 10, pipe, open}, {"Qualification", 20, pipe, open}, {"Needs Analysis", 25, pipe, open},
		{"Value Proposition", 50, pipe, open}, {"Identify Decision Makers", 60, pipe, open},
		{"Proposal/Price Quote", 75, pipelinedef.CategoryBestCase, open},
		{"Negotiation/Review", 90, pipelinedef.CategoryCommit, open},
		{"Closed Won", 100, pipelinedef.CategoryClosed, pipelinedef.KindWon},
		{"Closed Lost", 0, pipelinedef.CategoryOmitted, pipelinedef.KindLost},
	}, got)
	first, ok := p.FirstOpenStage()
	require.True(t, ok)
	assert.Equal(t, "prospecting", first.ID)
	won, ok := p.WonStage()
	require.True(t, ok)
	assert.Equal(t, pipelinedef.Stage{ID: "closed_won", Name: "Closed Won", Probability: 100,
		Category: pipelinedef.CategoryClosed, Kind: pipelinedef.KindWon}, won)
	lost, ok := p.LostStage()
	require.True(t, ok)
	assert.Equal(t, "closed_lost", lost.ID)
	assert.Len(t, p.LostStages(), 1)
	assert.Len(t, p.OpenStages(), 7)
	st, ok := p.StageByID("negotiation")
	require.True(t, ok)
	assert.Equal(t, "Negotiation/Review", st.Name)
	_, ok = p.StageByID("nope")
	assert.False(t, ok)
	assert.Equal(t, 6, p.Index("negotiation"))
	assert.Equal(t, -1, p.Index("nope"))
}

func TestEffective(t *testing.T) {
	t.Parallel()
	p, ok := pipelinedef.New(pipelinedef.DefaultID).Effective()
	require.True(t, ok, "the default pipeline exists without events")
	assert.Equal(t, pipelinedef.Default(), p)
	_, ok = pipelinedef.New("renewals").Effective()
	assert.False(t, ok)
	s := define(t, renewals())
	p, ok = s.Effective()
	require.True(t, ok)
	assert.Equal(t, "Renewals", p.Name)
	assert.EqualValues(t, 1, p.Revision)
}

func TestValidation(t *testing.T) {
	t.Parallel()
	stage := func(id, name string, prob int32, c pipelinedef.Category, k pipelinedef.Kind) pipelinedef.Stage {
		return pipelinedef.Stage{ID: id, Name: name, Probability: prob, Category: c, Kind: k}
	}
	open := stage("a", "A", 10, pipelinedef.CategoryPipeline, pipelinedef.KindOpen)
	won := stage("w", "Won", 100, pipelinedef.CategoryClosed, pipelinedef.KindWon)
	lost := stage("l", "Lost", 0, pipelinedef.CategoryOmitted, pipelinedef.KindLost)
	for _, tc := range []struct {
		name   string
		p      pipelinedef.Pipeline
		fields []string
	}{
		{"bad id and name", pipelinedef.Pipeline{ID: "New Business", Stages: []pipelinedef.Stage{open, won, lost}},
			[]string{"id", "name"}},
		{"no open stage", pipelinedef.Pipeline{ID: "x", Name: "X", Stages: []pipelinedef.Stage{won, lost}}, []string{"stages"}},
		{"two won stages", pipelinedef.Pipeline{ID: "x", Name: "X", Stages: []pipelinedef.Stage{open, won,
			stage("w2", "Won 2", 100, pipelinedef.CategoryClosed, pipelinedef.KindWon), lost}}, []string{"stages"}},
		{"no lost stage", pipelinedef.Pipeline{ID: "x", Name: "X", Stages: []pipelinedef.Stage{open, won}}, []string{"stages"}},
		{"duplicate id and name", pipelinedef.Pipeline{ID: "x", Name: "X", Stages: []pipelinedef.Stage{open,
			stage("a", "a", 20, pipelinedef.CategoryPipeline, pipelinedef.KindOpen), won, lost}},
			[]string{"stages[1].id", "stages[1].name"}},
		{"probability range", pipelinedef.Pipeline{ID: "x", Name: "X", Stages: []pipelinedef.Stage{
			stage("a", "A", 101, pipelinedef.CategoryPipeline, pipelinedef.KindOpen), won, lost}}, []string{"stages[0].probability"}},
		{"won must be 100 and closed", pipelinedef.Pipeline{ID: "x", Name: "X", Stages: []pipelinedef.Stage{open,
			stage("w", "Won", 90, pipelinedef.CategoryCommit, pipelinedef.KindWon), lost}},
			[]string{"stages[1].probability", "stages[1].category"}},
		{"lost must be 0 and omitted", pipelinedef.Pipeline{ID: "x", Name: "X", Stages: []pipelinedef.Stage{open, won,
			stage("l", "Lost", 5, pipelinedef.CategoryPipeline, pipelinedef.KindLost)}},
			[]string{"stages[2].probability", "stages[2].category"}},
		{"open stage in category closed", pipelinedef.Pipeline{ID: "x", Name: "X", Stages: []pipelinedef.Stage{
			stage("a", "A", 10, pipelinedef.CategoryClosed, pipelinedef.KindOpen), won, lost}}, []string{"stages[0].category"}},
		{"open after closed", pipelinedef.Pipeline{ID: "x", Name: "X", Stages: []pipelinedef.Stage{open, won,
			stage("b", "B", 10, pipelinedef.CategoryPipeline, pipelinedef.KindOpen), lost}}, []string{"stages[2].kind"}},
		{"unknown kind and category, bad stage id", pipelinedef.Pipeline{ID: "x", Name: "X", Stages: []pipelinedef.Stage{open,
			stage("B!", "", 10, 0, 0), won, lost}},
			[]string{"stages[1].id", "stages[1].name", "stages[1].kind", "stages[1].category"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := pipelinedef.Define(pipelinedef.New(tc.p.ID), tc.p, t0)
			assert.Equal(t, tc.fields, violations(t, err))
		})
	}
}

func TestDefine(t *testing.T) {
	t.Parallel()
	t.Run("new pipeline", func(t *testing.T) {
		t.Parallel()
		p := renewals()
		p.Name, p.Stages[0].Name = "  Renewals ", " Upcoming "
		p.Revision, p.Archived = 7, true
		evs, err := pipelinedef.Define(pipelinedef.New("renewals"), p, t0)
		require.NoError(t, err)
		require.Equal(t, []string{"PipelineDefined"}, types(evs))
		d := evs[0].(pipelinedef.PipelineDefined)
		assert.Equal(t, "Renewals", d.Pipeline.Name)
		assert.Equal(t, "Upcoming", d.Pipeline.Stages[0].Name)
		assert.EqualValues(t, 1, d.Pipeline.Revision)
		assert.False(t, d.Pipeline.Archived)
		assert.Equal(t, t0, evs[0].OccurredAt())
	})
	t.Run("existing", func(t *testing.T) {
		t.Parallel()
		_, err := pipelinedef.Define(define(t, renewals()), renewals(), t0)
		assert.Equal(t, apperr.AlreadyExists, apperr.KindOf(err))
		d := pipelinedef.Default()
		_, err = pipelinedef.Define(pipelinedef.New(pipelinedef.DefaultID), d, t0)
		assert.Equal(t, apperr.AlreadyExists, apperr.KindOf(err), "the built-in default always exists")
	})
}

func TestRevise(t *testing.T) {
	t.Parallel()
	t.Run("diff by stage id", func(t *testing.T) {
		t.Parallel()
		s := define(t, renewals())
		p := renewals()
		p.Stages[1].Name = "In negotiation" // renamed
		p.Stages[0].Probability = 40        // changed, not renamed
		p.Stages = append(p.Stages[:3:3],   // drop churned, add two
			pipelinedef.Stage{ID: "lost", Name: "Lost", Category: pipelinedef.CategoryOmitted, Kind: pipelinedef.KindLost},
			pipelinedef.Stage{ID: "lost_price", Name: "Lost on price", Category: pipelinedef.CategoryOmitted, Kind: pipelinedef.KindLost})
		evs, err := pipelinedef.Revise(s, p, t0.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, []string{"PipelineRevised"}, types(evs))
		r := evs[0].(pipelinedef.PipelineRevised)
		assert.Equal(t, []string{"lost", "lost_price"}, r.Added)
		assert.Equal(t, []string{"churned"}, r.Removed)
		assert.Equal(t, []string{"negotiating"}, r.Renamed)
		assert.EqualValues(t, 2, r.Pipeline.Revision)
		s = pipelinedef.ApplyAll(s, evs...)
		assert.Equal(t, []string{"churned"}, s.RetiredStageIDs)
		assert.EqualValues(t, 2, s.Version)
		assert.Len(t, s.Pipeline.LostStages(), 2)

		// A removed stage id never comes back.
		p.Stages = append(p.Stages, pipelinedef.Stage{ID: "churned", Name: "Churned again",
			Category: pipelinedef.CategoryOmitted, Kind: pipelinedef.KindLost})
		_, err = pipelinedef.Revise(s, p, t0)
		assert.Equal(t, []string{"stages[5].id"}, violations(t, err))
	})
	t.Run("unchanged definition, no events", func(t *testing.T) {
		t.Parallel()
		s := define(t, renewals())
		evs, err := pipelinedef.Revise(s, renewals(), t0)
		require.NoError(t, err)
		assert.Empty(t, evs)
		evs, err = pipelinedef.Revise(pipelinedef.New(pipelinedef.DefaultID), pipelinedef.Default(), t0)
		require.NoError(t, err)
		assert.Empty(t, evs)
	})
	t.Run("first revision of the built-in default records its definition first", func(t *testing.T) {
		t.Parallel()
		s := pipelinedef.New(pipelinedef.DefaultID)
		p := pipelinedef.Default()
		p.Stages[0].Name = "Prospect"
		evs, err := pipelinedef.Revise(s, p, t0)
		require.NoError(t, err)
		require.Equal(t, []string{"PipelineDefined", "PipelineRevised"}, types(evs))
		assert.Equal(t, pipelinedef.Default(), evs[0].(pipelinedef.PipelineDefined).Pipeline)
		r := evs[1].(pipelinedef.PipelineRevised)
		assert.Equal(t, []string{"prospecting"}, r.Renamed)
		assert.EqualValues(t, 2, r.Pipeline.Revision)
		s = pipelinedef.ApplyAll(s, evs...)
		eff, ok := s.Effective()
		require.True(t, ok)
		assert.Equal(t, "Prospect", eff.Stages[0].Name)
		assert.False(t, s.Implicit())

		// Later revisions are plain.
		p.Stages[0].Name = "Prospecting"
		evs, err = pipelinedef.Revise(s, p, t0)
		require.NoError(t, err)
		assert.Equal(t, []string{"PipelineRevised"}, types(evs))
	})
	t.Run("id must match", func(t *testing.T) {
		t.Parallel()
		s := define(t, renewals())
		p := renewals()
		p.ID = "other"
		_, err := pipelinedef.Revise(s, p, t0)
		assert.Equal(t, []string{"id"}, violations(t, err))
	})
	t.Run("a kept stage keeps its kind", func(t *testing.T) {
		t.Parallel()
		s := define(t, renewals())
		p := renewals()
		// "negotiating" would become a won stage and "renewed" an open one: an open deal in
		// negotiating would sit in a closed stage.
		p.Stages[1], p.Stages[2] = pipelinedef.Stage{ID: "renewed", Name: "Renewed", Probability: 80, Category: pipelinedef.CategoryCommit, Kind: pipelinedef.KindOpen},
			pipelinedef.Stage{ID: "negotiating", Name: "Negotiating", Probability: 100, Category: pipelinedef.CategoryClosed, Kind: pipelinedef.KindWon}
		_, err := pipelinedef.Revise(s, p, t0)
		assert.Equal(t, []string{"stages[1].kind", "stages[2].kind"}, violations(t, err))
	})
	t.Run("missing or archived", func(t *testing.T) {
		t.Parallel()
		_, err := pipelinedef.Revise(pipelinedef.New("renewals"), renewals(), t0)
		assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
		s := define(t, renewals())
		evs, err := pipelinedef.Archive(s, t0)
		require.NoError(t, err)
		s = pipelinedef.ApplyAll(s, evs...)
		_, err = pipelinedef.Revise(s, renewals(), t0)
		assert.Equal(t, pipelinedef.ReasonArchived, reason(t, err))
	})
}

func TestArchive(t *testing.T) {
	t.Parallel()
	s := define(t, renewals())
	evs, err := pipelinedef.Archive(s, t0)
	require.NoError(t, err)
	require.Equal(t, []string{"PipelineArchived"}, types(evs))
	s = pipelinedef.ApplyAll(s, evs...)
	assert.True(t, s.Pipeline.Archived)
	evs, err = pipelinedef.Archive(s, t0)
	require.NoError(t, err)
	assert.Empty(t, evs, "archiving twice changes nothing")

	_, err = pipelinedef.Archive(pipelinedef.New(pipelinedef.DefaultID), t0)
	assert.Equal(t, pipelinedef.ReasonDefaultArchive, reason(t, err))
	_, err = pipelinedef.Archive(pipelinedef.New("nope"), t0)
	assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
}

func TestApplyDoesNotShareSlices(t *testing.T) {
	t.Parallel()
	p := renewals()
	s := pipelinedef.Apply(pipelinedef.New("renewals"), pipelinedef.PipelineDefined{Pipeline: p, At: t0})
	p.Stages[0].Name = "changed after the fact"
	assert.Equal(t, "Upcoming", s.Pipeline.Stages[0].Name)
	eff, _ := s.Effective()
	eff.Stages[0].Name = "changed by a reader"
	assert.Equal(t, "Upcoming", s.Pipeline.Stages[0].Name)
}
