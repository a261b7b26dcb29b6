package segment

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/evcrm/evcrm/libs/apperr"
)

// AggregateType is the event-store aggregate type of segments.
const AggregateType = "segment"

// Segment is a saved, named set of criteria over leads or contacts.
type Segment struct {
	ID          string
	Version     uint64
	Name        string
	Description string
	Object      Object
	// Criteria are the text as the user wrote it (validated: it parses).
	Criteria  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Event is a fact about one segment: SegmentSaved or SegmentDeleted.
type Event interface {
	EventType() string
	OccurredAt() time.Time
	isSegmentEvent()
}

// SegmentSaved records a segment as created or changed: the whole segment.
type SegmentSaved struct {
	Segment Segment
	At      time.Time
}

// SegmentDeleted removes a segment.
type SegmentDeleted struct {
	At time.Time
}

// EventType implements Event.
func (SegmentSaved) EventType() string   { return "SegmentSaved" }
func (SegmentDeleted) EventType() string { return "SegmentDeleted" }

// OccurredAt implements Event.
func (e SegmentSaved) OccurredAt() time.Time   { return e.At }
func (e SegmentDeleted) OccurredAt() time.Time { return e.At }

func (SegmentSaved) isSegmentEvent()   {}
func (SegmentDeleted) isSegmentEvent() {}

// State is a segment folded from its events.
type State struct {
	Segment Segment
	// Version is the number of events folded.
	Version uint64
	Deleted bool
}

// Exists reports whether the segment was created and not deleted.
func (s State) Exists() bool { return s.Version > 0 && !s.Deleted }

// Apply folds one event into the state.
func Apply(s State, e Event) State {
	s.Version++
	switch e := e.(type) {
	case SegmentSaved:
		s.Segment = e.Segment
	case SegmentDeleted:
		s.Deleted = true
	}
	s.Segment.Version = s.Version
	return s
}

// Limits of a segment's fields.
const (
	MaxName        = 255
	MaxDescription = 4000
)

// ReasonNotFound is the Reason of the NotFound error for a missing or deleted segment.
const ReasonNotFound = "SEGMENT_NOT_FOUND"

// ErrNotFound is the error for segment id.
func ErrNotFound(id string) error {
	return &apperr.Error{Kind: apperr.NotFound, Reason: ReasonNotFound, Message: "segment " + id + " not found"}
}

// Compile parses criteria for object o: the expression, or an apperr Invalid error on field
// "criteria" whose description carries the position ("expected ')' at 1:34").
func Compile(criteria string, o Object) (Expr, error) {
	e, err := Parse(criteria)
	if err == nil {
		err = CheckObject(e, o)
	}
	if err != nil {
		return nil, apperr.InvalidFields("invalid segment criteria", apperr.FieldViolation{Field: "criteria", Description: err.Error()})
	}
	return e, nil
}

func validate(g Segment, v *apperr.Violations) {
	if n := utf8.RuneCountInString(g.Name); n == 0 || n > MaxName {
		v.Add("name", "required: 1 to %d characters", MaxName)
	}
	if utf8.RuneCountInString(g.Description) > MaxDescription {
		v.Add("description", "at most %d characters", MaxDescription)
	}
	if g.Object != ObjectLead && g.Object != ObjectContact {
		v.Add("object", "required: LEAD or CONTACT")
		return
	}
	if strings.TrimSpace(g.Criteria) == "" {
		v.Add("criteria", "required")
		return
	}
	e, err := Parse(g.Criteria)
	if err == nil {
		err = CheckObject(e, g.Object)
	}
	if err != nil {
		v.Add("criteria", "%s", err.Error())
	}
}

func normalize(g Segment) Segment {
	g.Name = strings.TrimSpace(g.Name)
	g.Description = strings.TrimSpace(g.Description)
	return g
}

// Create decides CreateSegment: g with id, name, object and criteria (output-only fields are
// ignored).
func Create(s State, g Segment, now time.Time) ([]Event, error) {
	g = normalize(g)
	var v apperr.Violations
	validate(g, &v)
	if err := v.Err("invalid segment"); err != nil {
		return nil, err
	}
	if s.Version > 0 {
		return nil, apperr.Exists("segment "+g.ID+" already exists", g.ID)
	}
	g.CreatedAt, g.UpdatedAt, g.Version = now, now, 0
	return []Event{SegmentSaved{Segment: g, At: now}}, nil
}

// Update decides UpdateSegment: the fields named by paths (name, description, criteria) take
// their values from g. Unknown paths are reported as "update_mask.paths[i]". An update that
// changes nothing yields no events.
func Update(s State, g Segment, paths []string, now time.Time) ([]Event, error) {
	if !s.Exists() {
		return nil, ErrNotFound(s.Segment.ID)
	}
	var v apperr.Violations
	if len(paths) == 0 {
		v.Add("update_mask", "name at least one of name, description, criteria")
	}
	next := s.Segment
	for i, p := range paths {
		switch p {
		case "name":
			next.Name = g.Name
		case "description":
			next.Description = g.Description
		case "criteria":
			next.Criteria = g.Criteria
		default:
			v.Add("update_mask.paths["+strconv.Itoa(i)+"]", "unknown path %q: name, description or criteria", p)
		}
	}
	next = normalize(next)
	validate(next, &v)
	if err := v.Err("invalid segment"); err != nil {
		return nil, err
	}
	if next.Name == s.Segment.Name && next.Description == s.Segment.Description && next.Criteria == s.Segment.Criteria {
		return nil, nil
	}
	next.UpdatedAt = now
	return []Event{SegmentSaved{Segment: next, At: now}}, nil
}

// Delete decides DeleteSegment. Deleting a deleted segment is NotFound.
func Delete(s State, now time.Time) ([]Event, error) {
	if !s.Exists() {
		return nil, ErrNotFound(s.Segment.ID)
	}
	return []Event{SegmentDeleted{At: now}}, nil
}
