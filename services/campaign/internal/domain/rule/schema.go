package rule

import (
	"slices"
	"sort"
)

// Kind is the type of a field as the condition language sees it.
type Kind int

// The kinds of fields. Enums are strings (their proto names), timestamps and durations are
// strings (RFC 3339 / "3.5s"), 64-bit integers are numbers.
const (
	KindAny Kind = iota
	KindString
	KindNumber
	KindBool
	KindMessage
	// KindMap is a map (custom fields, metadata): any key below it is accepted.
	KindMap
)

// Field describes one field of an event payload or a record.
type Field struct {
	Kind     Kind
	Repeated bool
	// Fields are a message's fields by their proto (snake_case) names.
	Fields map[string]*Field
	// Scalar, for a message, names the sub-field a comparison uses when the condition names the
	// message itself: record.score >= 60 compares record.score.total.
	Scalar string
}

// EventSchema is what a condition may name for one trigger.
type EventSchema struct {
	// Payload is the event message ("event.…").
	Payload *Field
	// Record is the record the event is about ("record.…"); nil when the event has none.
	Record *Field
	// RecordType says what the record is: RecordLead, RecordContact, RecordPerson (a lead or a
	// contact, known per event) or RecordNone.
	RecordType RecordType
}

// RecordType is the kind of record a trigger's events are about.
type RecordType int

// The record types.
const (
	RecordNone RecordType = iota
	RecordLead
	RecordContact
	RecordPerson
)

// Catalog lists the event types a rule may trigger on, by short type.
type Catalog map[string]EventSchema

// Types returns the known event types, sorted.
func (c Catalog) Types() []string {
	out := make([]string, 0, len(c))
	for t := range c {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// lookup resolves a path below f. It returns the field reached, the path to read in the value
// tree (with Scalar sub-fields appended), and the index of the first unknown segment (-1 when
// all are known).
func (f *Field) lookup(path []string) (*Field, []string, int) {
	cur := f
	out := slices.Clone(path)
	for i, seg := range path {
		switch cur.Kind {
		case KindMap, KindAny:
			return &Field{Kind: KindAny}, out, -1
		case KindMessage:
			if cur.Repeated {
				return nil, nil, i
			}
			next, ok := cur.Fields[seg]
			if !ok {
				return nil, nil, i
			}
			cur = next
		default:
			return nil, nil, i
		}
	}
	for cur.Kind == KindMessage && !cur.Repeated && cur.Scalar != "" {
		next, ok := cur.Fields[cur.Scalar]
		if !ok {
			break
		}
		out = append(out, cur.Scalar)
		cur = next
	}
	return cur, out, -1
}
