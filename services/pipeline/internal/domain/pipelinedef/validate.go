package pipelinedef

import (
	"fmt"
	"slices"
	"strings"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/input"
)

// Limits of a pipeline definition.
const (
	MaxNameLen = 100
	MaxStages  = 50
)

// normalize trims the names and ids (ids are not lower-cased: a slug with upper case is
// refused rather than silently changed).
func normalize(p Pipeline) Pipeline {
	p = p.Clone()
	p.ID = strings.TrimSpace(p.ID)
	p.Name = strings.TrimSpace(p.Name)
	for i := range p.Stages {
		p.Stages[i].ID = strings.TrimSpace(p.Stages[i].ID)
		p.Stages[i].Name = strings.TrimSpace(p.Stages[i].Name)
	}
	return p
}

// validate adds one violation per bad field of p. Paths are relative to the pipeline: "id",
// "name", "stages", "stages[2].probability". retired are stage ids that may not be used.
func validate(p Pipeline, retired []string, v *apperr.Violations) {
	if !ValidSlug(p.ID) {
		v.Add("id", "must match [a-z0-9_-]{1,64}")
	}
	switch {
	case p.Name == "":
		v.Add("name", "is required")
	default:
		input.Text("name", p.Name, MaxNameLen, false, v)
	}
	if len(p.Stages) > MaxStages {
		v.Add("stages", "at most %d stages", MaxStages)
	}
	ids := map[string]bool{}
	names := map[string]bool{}
	var open, won, lost int
	closedSeen := false
	for i, s := range p.Stages {
		at := fmt.Sprintf("stages[%d].", i)
		switch {
		case !ValidSlug(s.ID):
			v.Add(at+"id", "must match [a-z0-9_-]{1,64}")
		case ids[s.ID]:
			v.Add(at+"id", "duplicate stage id %q", s.ID)
		case slices.Contains(retired, s.ID):
			v.Add(at+"id", "stage id %q was removed from this pipeline; removed stage ids are never reused", s.ID)
		}
		ids[s.ID] = true
		key := strings.ToLower(s.Name)
		switch {
		case s.Name == "":
			v.Add(at+"name", "is required")
		case input.CheckText(s.Name, MaxNameLen, false) != "":
			v.Add(at+"name", "%s", input.CheckText(s.Name, MaxNameLen, false))
		case names[key]:
			v.Add(at+"name", "duplicate stage name %q (names are compared ignoring case)", s.Name)
		}
		names[key] = true
		validateStageKind(s, at, closedSeen, v)
		switch s.Kind {
		case KindOpen:
			open++
		case KindWon:
			won++
		case KindLost:
			lost++
		}
		if s.Kind.Closed() {
			closedSeen = true
		}
	}
	switch {
	case open == 0:
		v.Add("stages", "a pipeline needs at least one open stage")
	case won != 1:
		v.Add("stages", "a pipeline needs exactly one won stage, it has %d", won)
	case lost == 0:
		v.Add("stages", "a pipeline needs at least one lost stage")
	}
}

// validateStageKind checks probability, category and kind of one stage, at most one violation
// per field. Won stages are 100 % and Closed, lost stages 0 % and Omitted: those are what the
// forecast and the win-rate metrics assume. Open stages precede closed ones so that a move's
// direction (forward/backward) follows stage order.
func validateStageKind(s Stage, at string, closedSeen bool, v *apperr.Violations) {
	switch {
	case !s.Kind.Valid():
		v.Add(at+"kind", "must be open, won or lost")
	case s.Kind == KindOpen && closedSeen:
		v.Add(at+"kind", "open stages come before the won and lost stages")
	}
	switch {
	case s.Probability < 0 || s.Probability > 100:
		v.Add(at+"probability", "must be between 0 and 100")
	case s.Kind == KindWon && s.Probability != 100:
		v.Add(at+"probability", "a won stage has probability 100")
	case s.Kind == KindLost && s.Probability != 0:
		v.Add(at+"probability", "a lost stage has probability 0")
	}
	switch {
	case !s.Category.Valid():
		v.Add(at+"category", "must be pipeline, best_case, commit, closed or omitted")
	case s.Kind == KindWon && s.Category != CategoryClosed:
		v.Add(at+"category", "a won stage is in category closed")
	case s.Kind == KindLost && s.Category != CategoryOmitted:
		v.Add(at+"category", "a lost stage is in category omitted")
	case s.Kind == KindOpen && s.Category == CategoryClosed:
		v.Add(at+"category", "category closed is for the won stage")
	}
}
