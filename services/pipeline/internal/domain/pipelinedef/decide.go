package pipelinedef

import (
	"fmt"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
)

// Machine-readable reasons of FailedPrecondition errors.
const (
	ReasonArchived       = "PIPELINE_ARCHIVED"
	ReasonDefaultArchive = "DEFAULT_PIPELINE_NOT_ARCHIVABLE"
	// ReasonNotFound is the Reason of the NotFound error for a pipeline that does not exist.
	ReasonNotFound = "PIPELINE_NOT_FOUND"
)

func errNotFound(id string) error {
	return &apperr.Error{Kind: apperr.NotFound, Reason: ReasonNotFound, Message: fmt.Sprintf("pipeline %q not found", id)}
}

// Define decides DefinePipeline: a new pipeline with the given id, name and stages (Revision and
// Archived are ignored). The id must be unused; "default" always exists (it is built in), so it
// is changed with Revise.
func Define(s State, p Pipeline, now time.Time) ([]Event, error) {
	p = normalize(p)
	var v apperr.Violations
	validate(p, nil, &v)
	if err := v.Err("invalid pipeline"); err != nil {
		return nil, err
	}
	if s.ID != "" && s.ID != p.ID {
		return nil, apperr.New(apperr.Internal, "define pipeline %q on the state of %q", p.ID, s.ID)
	}
	if s.Recorded() || p.ID == DefaultID {
		return nil, apperr.Exists(fmt.Sprintf("pipeline %q already exists", p.ID), p.ID)
	}
	p.Archived, p.Revision = false, 1
	return []Event{PipelineDefined{Pipeline: p, At: now}}, nil
}

// Revise decides RevisePipeline: p is the whole new definition (name and stages; its id, when
// given, must be the pipeline's). Stage ids that a revision keeps keep their identity; ids it drops are
// retired for good. An unchanged definition yields no events. Revising the never-edited
// default pipeline records PipelineDefined (the built-in definition) and then PipelineRevised.
//
// Removing a stage that opportunities are in is allowed: they keep the stage id and name they
// have until they move (the domain cannot see them; the app may refuse it from its read model).
func Revise(s State, p Pipeline, now time.Time) ([]Event, error) {
	cur, ok := s.Effective()
	if !ok {
		return nil, errNotFound(s.ID)
	}
	if cur.Archived {
		return nil, apperr.Precondition(ReasonArchived, "pipeline %q is archived: it cannot be revised", s.ID)
	}
	p = normalize(p)
	if p.ID == "" {
		p.ID = s.ID
	}
	var v apperr.Violations
	validate(p, s.RetiredStageIDs, &v)
	if p.ID != s.ID && ValidSlug(p.ID) {
		v.Add("id", "must be %q, the pipeline being revised", s.ID)
	}
	// A kept stage id keeps its kind: an open opportunity must never find itself in a closed
	// stage (or a won deal in an open one) because the pipeline was edited.
	for i, st := range p.Stages {
		if old, ok := cur.StageByID(st.ID); ok && st.Kind.Valid() && old.Kind != st.Kind {
			v.Add(fmt.Sprintf("stages[%d].kind", i), "stage %q is %s and must stay so; add a new stage instead", st.ID, old.Kind)
		}
	}
	if err := v.Err("invalid pipeline"); err != nil {
		return nil, err
	}
	if p.sameDefinition(cur) {
		return nil, nil
	}
	var events []Event
	if s.Implicit() {
		events = append(events, PipelineDefined{Pipeline: cur, At: now})
	}
	p.Archived, p.Revision = false, cur.Revision+1
	rev := PipelineRevised{Pipeline: p, At: now}
	for _, st := range p.Stages {
		old, existed := cur.StageByID(st.ID)
		switch {
		case !existed:
			rev.Added = append(rev.Added, st.ID)
		case old.Name != st.Name:
			rev.Renamed = append(rev.Renamed, st.ID)
		}
	}
	for _, st := range cur.Stages {
		if p.Index(st.ID) < 0 {
			rev.Removed = append(rev.Removed, st.ID)
		}
	}
	return append(events, rev), nil
}

// Archive decides ArchivePipeline: the pipeline takes no new opportunities; its opportunities
// keep working (moving, closing, reopening), so archiving never strands a deal. The default
// pipeline cannot be archived, so a tenant always has a pipeline for new opportunities (lead
// conversion uses it). Archiving an archived pipeline yields no events.
func Archive(s State, now time.Time) ([]Event, error) {
	cur, ok := s.Effective()
	if !ok {
		return nil, errNotFound(s.ID)
	}
	if cur.ID == DefaultID {
		return nil, apperr.Precondition(ReasonDefaultArchive, "the default pipeline cannot be archived")
	}
	if cur.Archived {
		return nil, nil
	}
	return []Event{PipelineArchived{At: now}}, nil
}

// Check validates a pipeline definition without state (for tests and tools), returning the
// Invalid error Define would.
func Check(p Pipeline) error {
	var v apperr.Violations
	validate(normalize(p), nil, &v)
	return v.Err("invalid pipeline")
}
