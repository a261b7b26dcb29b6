// Package activity is the activity aggregate: a call, email, meeting or note logged against one
// or more records (leads, contacts, accounts, opportunities). An activity is a fact about the
// past and is never changed after it is logged, so the aggregate has one event, ActivityLogged.
// RecordRef, the pointer to a record, lives here too; tasks and timelines use it.
//
// Like the lead package it is pure: Log validates and decides, Apply folds; whether the records
// exist is the app's to check (it needs the event store).
package activity

import (
	"regexp"
	"slices"
	"time"
)

// AggregateType is the aggregate type (and subject token) of activities.
const AggregateType = "activity"

// Kind is what happened. Numbered like crm.leads.v1.ActivityKind.
type Kind int

// Kinds. The zero value is not a valid kind.
const (
	KindUnspecified Kind = iota
	KindCall
	KindEmail
	KindMeeting
	KindNote
)

var kindNames = [...]string{"UNSPECIFIED", "CALL", "EMAIL", "MEETING", "NOTE"}

// String is the kind's name, e.g. "CALL".
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "UNKNOWN"
}

// Valid reports whether k is a defined kind other than KindUnspecified.
func (k Kind) Valid() bool { return k > KindUnspecified && int(k) < len(kindNames) }

// Directed reports whether activities of kind k have a direction (calls and emails: someone
// reached out to someone; meetings and notes have none).
func (k Kind) Directed() bool { return k == KindCall || k == KindEmail }

// Direction says who reached out. Numbered like crm.leads.v1.ActivityDirection.
type Direction int

// Directions. DirectionUnspecified is "not said" (and the only value for meetings and notes).
const (
	DirectionUnspecified Direction = iota
	// DirectionInbound: the prospect or customer reached out (an inbound call, a reply).
	DirectionInbound
	// DirectionOutbound: the tenant's user reached out.
	DirectionOutbound
)

var directionNames = [...]string{"UNSPECIFIED", "INBOUND", "OUTBOUND"}

// String is the direction's name, e.g. "INBOUND".
func (d Direction) String() string {
	if d >= 0 && int(d) < len(directionNames) {
		return directionNames[d]
	}
	return "UNKNOWN"
}

// RecordType names the kind of record an activity, task or timeline refers to. Numbered like
// crm.leads.v1.RecordType.
type RecordType int

// Record types. The zero value is not a valid type.
const (
	RecordUnspecified RecordType = iota
	RecordLead
	RecordContact
	RecordAccount
	// RecordOpportunity is an opportunity of the pipeline service; this service cannot check
	// that it exists.
	RecordOpportunity
)

var recordTypes = [...]string{"", "lead", "contact", "account", "opportunity"}

// AggregateType is the record's aggregate type ("lead", "contact", …); "" for an invalid type.
func (t RecordType) AggregateType() string {
	if t >= 0 && int(t) < len(recordTypes) {
		return recordTypes[t]
	}
	return ""
}

// String is the aggregate type, or "unspecified".
func (t RecordType) String() string {
	if s := t.AggregateType(); s != "" {
		return s
	}
	return "unspecified"
}

// Valid reports whether t is a defined type other than RecordUnspecified.
func (t RecordType) Valid() bool { return t > RecordUnspecified && int(t) < len(recordTypes) }

// Owned reports whether records of type t live in this service (and so must exist before
// anything refers to them).
func (t RecordType) Owned() bool { return t == RecordLead || t == RecordContact || t == RecordAccount }

// RecordRef points at one record. The zero RecordRef points at nothing.
type RecordRef struct {
	Type RecordType
	ID   string
}

// IsZero reports whether r points at nothing.
func (r RecordRef) IsZero() bool { return r == RecordRef{} }

// String is "type/id", for messages.
func (r RecordRef) String() string { return r.Type.String() + "/" + r.ID }

var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidID reports whether id can be a record, activity or task id: [A-Za-z0-9_-]{1,64}, the
// alphabet of NATS subject tokens.
func ValidID(id string) bool { return idRE.MatchString(id) }

// Activity is the state of one activity. The zero Activity means it does not exist.
type Activity struct {
	ID string
	// Version is the number of events folded: 1 once logged.
	Version uint64
	Kind    Kind
	// Records are the records it concerns, 1 to MaxRecords, without duplicates.
	Records []RecordRef
	Subject string
	Body    string
	// Direction is set only for calls and emails, and may be unspecified for them too.
	Direction Direction
	// Outcome is free text, e.g. "left voicemail".
	Outcome string
	// Duration of a call or meeting; 0 when not said.
	Duration time.Duration
	// Participants are email addresses or names.
	Participants []string
	// OccurredAt is when it happened (the time of logging when the user did not say).
	OccurredAt time.Time
	// LoggedBy is the user who logged it.
	LoggedBy  string
	CreatedAt time.Time
}

// Exists reports whether the activity has been logged.
func (a Activity) Exists() bool { return a.Version > 0 }

// Concerns reports whether the activity is about r.
func (a Activity) Concerns(r RecordRef) bool { return slices.Contains(a.Records, r) }

func (a Activity) clone() Activity {
	a.Records = slices.Clone(a.Records)
	a.Participants = slices.Clone(a.Participants)
	return a
}

// Event is a fact about one activity. The set is closed.
type Event interface {
	// EventType is the event's name and the last token of its subject.
	EventType() string
	// OccurredAt is when the fact was recorded (the decision's now).
	OccurredAt() time.Time
	isActivityEvent()
}

// ActivityLogged is the only event of an activity: the activity as logged.
type ActivityLogged struct {
	Activity Activity
	At       time.Time
}

// EventType implements Event.
func (ActivityLogged) EventType() string { return "ActivityLogged" }

// OccurredAt implements Event.
func (e ActivityLogged) OccurredAt() time.Time { return e.At }

func (ActivityLogged) isActivityEvent() {}

// Apply folds one event into the state. It is pure: a's slices are not modified.
func Apply(a Activity, e Event) Activity {
	switch e := e.(type) {
	case ActivityLogged:
		n := e.Activity.clone()
		n.Version = a.Version + 1
		return n
	}
	return a
}
