package pipelinedef

import (
	"slices"
	"time"
)

// Event is a fact about one pipeline. The set is closed (the unexported method): the app's codec
// maps each type to the crm.pipeline.v1 message of the same name.
type Event interface {
	// EventType is the event's name and the last token of its subject, e.g. "PipelineRevised".
	EventType() string
	// OccurredAt is when the fact happened (the decision's now).
	OccurredAt() time.Time
	isPipelineEvent()
}

// PipelineDefined is the first event of every pipeline: the whole definition, Revision 1.
type PipelineDefined struct {
	Pipeline Pipeline
	At       time.Time
}

// PipelineRevised carries the whole new definition (Revision +1) and the difference to the
// previous one by stage id: Added and Removed stages, and Renamed stages (same id, new name).
// Changes of probability, category or order show in Pipeline only. Lists are in the order of
// the definition they come from (Removed: the previous one).
type PipelineRevised struct {
	Pipeline Pipeline
	Added    []string
	Removed  []string
	Renamed  []string
	At       time.Time
}

// PipelineArchived says the pipeline takes no new opportunities.
type PipelineArchived struct {
	At time.Time
}

// EventType implements Event.
func (PipelineDefined) EventType() string  { return "PipelineDefined" }
func (PipelineRevised) EventType() string  { return "PipelineRevised" }
func (PipelineArchived) EventType() string { return "PipelineArchived" }

// OccurredAt implements Event.
func (e PipelineDefined) OccurredAt() time.Time  { return e.At }
func (e PipelineRevised) OccurredAt() time.Time  { return e.At }
func (e PipelineArchived) OccurredAt() time.Time { return e.At }

func (PipelineDefined) isPipelineEvent()  {}
func (PipelineRevised) isPipelineEvent()  {}
func (PipelineArchived) isPipelineEvent() {}

// State is a pipeline folded from its events. Start the fold at New(id), not at the zero State:
// the id decides whether a pipeline without events is the built-in default.
type State struct {
	// ID is the pipeline's id (set by New, confirmed by PipelineDefined).
	ID string
	// Version is the number of events folded.
	Version uint64
	// Pipeline is the recorded definition; zero until PipelineDefined.
	Pipeline Pipeline
	// RetiredStageIDs are the stage ids removed by revisions, sorted; they can never come back.
	RetiredStageIDs []string
}

// New returns the state of pipeline id before any event.
func New(id string) State { return State{ID: id} }

// Recorded reports whether the pipeline has events.
func (s State) Recorded() bool { return s.Version > 0 }

// Implicit reports whether s is the built-in default pipeline that was never edited.
func (s State) Implicit() bool { return !s.Recorded() && s.ID == DefaultID }

// Effective returns the pipeline in force: the recorded definition, or Default() for the
// never-edited "default" pipeline. ok is false when the pipeline does not exist.
func (s State) Effective() (p Pipeline, ok bool) {
	switch {
	case s.Recorded():
		return s.Pipeline.Clone(), true
	case s.Implicit():
		return Default(), true
	}
	return Pipeline{}, false
}

// Apply folds one event into the state. It is pure: s is not modified.
func Apply(s State, e Event) State {
	s.Version++
	s.RetiredStageIDs = slices.Clone(s.RetiredStageIDs)
	switch e := e.(type) {
	case PipelineDefined:
		s.ID = e.Pipeline.ID
		s.Pipeline = e.Pipeline.Clone()
	case PipelineRevised:
		s.Pipeline = e.Pipeline.Clone()
		for _, id := range e.Removed {
			if i, found := slices.BinarySearch(s.RetiredStageIDs, id); !found {
				s.RetiredStageIDs = slices.Insert(s.RetiredStageIDs, i, id)
			}
		}
	case PipelineArchived:
		s.Pipeline = s.Pipeline.Clone()
		s.Pipeline.Archived = true
	}
	return s
}

// ApplyAll folds events in order.
func ApplyAll(s State, events ...Event) State {
	for _, e := range events {
		s = Apply(s, e)
	}
	return s
}
