// Package pipelinedef is the pipeline aggregate (aggregate type "pipeline", id = a slug): an
// ordered list of stages, each with a default probability, a forecast category and a kind
// (open, won, lost).
//
// Every tenant has the built-in pipeline "default" (Default) without recording anything: a
// "default" pipeline with no events behaves as Default (State.Effective). Its first revision
// records PipelineDefined with Default() followed by PipelineRevised in the same batch, so that
// every pipeline's log starts with PipelineDefined and consumers never need to know the built-in
// stages to read a revision's diff. Changing Default in code changes it for tenants that never
// edited their default pipeline, which is the intent of a default.
//
// Revisions never rewrite history: opportunities carry the stage ids and names they passed
// through, and a stage id once removed from a pipeline can never be used in it again
// (State.RetiredStageIDs), so an old stage id in an opportunity's history always means the stage
// it meant then.
package pipelinedef

import (
	"regexp"
	"slices"
	"strconv"
)

// AggregateType is the event store's aggregate type of pipelines.
const AggregateType = "pipeline"

// DefaultID is the id of the built-in pipeline every tenant has.
const DefaultID = "default"

var slugRE = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// ValidSlug reports whether s can be a pipeline or stage id: [a-z0-9_-]{1,64}.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// Category is a forecast category. Numbering follows the proto enum of the same name; the zero
// value is "unspecified".
type Category int

// Forecast categories (Salesforce's set).
const (
	CategoryUnspecified Category = iota
	// CategoryPipeline: open, early; counts in the pipeline total only.
	CategoryPipeline
	// CategoryBestCase: open, could close in the period.
	CategoryBestCase
	// CategoryCommit: open, the owner commits to closing it in the period.
	CategoryCommit
	// CategoryClosed: won.
	CategoryClosed
	// CategoryOmitted: lost, or open but excluded from the forecast.
	CategoryOmitted
)

var categoryNames = [...]string{"UNSPECIFIED", "PIPELINE", "BEST_CASE", "COMMIT", "CLOSED", "OMITTED"}

// String returns the upper-case name, e.g. "BEST_CASE".
func (c Category) String() string { return enumName(categoryNames[:], int(c), "category") }

// Valid reports whether c is a defined category other than CategoryUnspecified.
func (c Category) Valid() bool { return c > CategoryUnspecified && int(c) < len(categoryNames) }

// ValidForOpen reports whether an open stage or open opportunity may be in c: any category but
// Closed, which means won.
func (c Category) ValidForOpen() bool { return c.Valid() && c != CategoryClosed }

// Kind says whether a stage is open or closes the opportunity. Numbering follows the proto enum.
type Kind int

// Stage kinds.
const (
	KindUnspecified Kind = iota
	KindOpen
	KindWon
	KindLost
)

var kindNames = [...]string{"UNSPECIFIED", "OPEN", "WON", "LOST"}

// String returns the upper-case name, e.g. "WON".
func (k Kind) String() string { return enumName(kindNames[:], int(k), "kind") }

// Valid reports whether k is a defined kind other than KindUnspecified.
func (k Kind) Valid() bool { return k > KindUnspecified && int(k) < len(kindNames) }

// Closed reports whether k is Won or Lost.
func (k Kind) Closed() bool { return k == KindWon || k == KindLost }

// Stage is one step of a pipeline.
type Stage struct {
	// ID is a slug, [a-z0-9_-]{1,64}, unique in the pipeline and never reused once removed.
	ID string
	// Name is shown to people; it may change (opportunities keep the name they saw).
	Name string
	// Probability is the default win probability in percent, 0…100.
	Probability int32
	// Category is the default forecast category of opportunities in the stage.
	Category Category
	Kind     Kind
}

// Pipeline is a pipeline definition: stages in order. Open stages come first, then the closed
// (won and lost) stages.
type Pipeline struct {
	// ID is a slug, [a-z0-9_-]{1,64}.
	ID     string
	Name   string
	Stages []Stage
	// Archived pipelines take no new opportunities; the ones they have keep working.
	Archived bool
	// Revision counts definitions: 1 for PipelineDefined, +1 per PipelineRevised.
	Revision uint32
}

// Default returns the built-in pipeline (Salesforce's standard sales process).
func Default() Pipeline {
	return Pipeline{
		ID:   DefaultID,
		Name: "Default",
		Stages: []Stage{
			{ID: "prospecting", Name: "Prospecting", Probability: 10, Category: CategoryPipeline, Kind: KindOpen},
			{ID: "qualification", Name: "Qualification", Probability: 20, Category: CategoryPipeline, Kind: KindOpen},
			{ID: "needs_analysis", Name: "Needs Analysis", Probability: 25, Category: CategoryPipeline, Kind: KindOpen},
			{ID: "value_proposition", Name: "Value Proposition", Probability: 50, Category: CategoryPipeline, Kind: KindOpen},
			{ID: "identify_decision_makers", Name: "Identify Decision Makers", Probability: 60, Category: CategoryPipeline, Kind: KindOpen},
			{ID: "proposal", Name: "Proposal/Price Quote", Probability: 75, Category: CategoryBestCase, Kind: KindOpen},
			{ID: "negotiation", Name: "Negotiation/Review", Probability: 90, Category: CategoryCommit, Kind: KindOpen},
			{ID: "closed_won", Name: "Closed Won", Probability: 100, Category: CategoryClosed, Kind: KindWon},
			{ID: "closed_lost", Name: "Closed Lost", Probability: 0, Category: CategoryOmitted, Kind: KindLost},
		},
		Revision: 1,
	}
}

// StageByID returns the stage with id.
func (p Pipeline) StageByID(id string) (Stage, bool) {
	if i := p.Index(id); i >= 0 {
		return p.Stages[i], true
	}
	return Stage{}, false
}

// Index returns the position of stage id, or -1.
func (p Pipeline) Index(id string) int {
	return slices.IndexFunc(p.Stages, func(s Stage) bool { return s.ID == id })
}

// FirstOpenStage returns the first open stage, where new opportunities start. A valid pipeline
// always has one.
func (p Pipeline) FirstOpenStage() (Stage, bool) { return p.first(KindOpen) }

// WonStage returns the won stage. A valid pipeline has exactly one.
func (p Pipeline) WonStage() (Stage, bool) { return p.first(KindWon) }

// LostStage returns the first lost stage, where MarkLost goes unless it names another.
func (p Pipeline) LostStage() (Stage, bool) { return p.first(KindLost) }

// LostStages returns every lost stage, in order.
func (p Pipeline) LostStages() []Stage { return p.ofKind(KindLost) }

// OpenStages returns the open stages, in order.
func (p Pipeline) OpenStages() []Stage { return p.ofKind(KindOpen) }

func (p Pipeline) first(k Kind) (Stage, bool) {
	for _, s := range p.Stages {
		if s.Kind == k {
			return s, true
		}
	}
	return Stage{}, false
}

func (p Pipeline) ofKind(k Kind) []Stage {
	var out []Stage
	for _, s := range p.Stages {
		if s.Kind == k {
			out = append(out, s)
		}
	}
	return out
}

// Clone returns p with its own stage slice.
func (p Pipeline) Clone() Pipeline {
	p.Stages = slices.Clone(p.Stages)
	return p
}

// sameDefinition reports whether p and o define the same pipeline (name and stages; the
// revision and archived flag are not part of the definition).
func (p Pipeline) sameDefinition(o Pipeline) bool {
	return p.Name == o.Name && slices.Equal(p.Stages, o.Stages)
}

func enumName(names []string, i int, what string) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return what + "(" + strconv.Itoa(i) + ")"
}
