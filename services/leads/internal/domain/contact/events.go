package contact

import "time"

// Event is a fact about one contact; the codec maps each type to the crm.leads.v1 message of
// the same name.
type Event interface {
	// EventType is the event's name and the last token of its subject.
	EventType() string
	// OccurredAt is when the fact happened.
	OccurredAt() time.Time
	isContactEvent()
}

// ContactCreated is the first event of every contact: the contact as created.
type ContactCreated struct {
	Contact Contact
	At      time.Time
}

// ContactUpdated records changed fields: Changed lists the leaf paths in canonical order,
// Before and After hold the old and new values of exactly those paths.
type ContactUpdated struct {
	Changed []string
	Before  Details
	After   Details
	At      time.Time
}

// EventType implements Event.
func (ContactCreated) EventType() string { return "ContactCreated" }

// EventType implements Event.
func (ContactUpdated) EventType() string { return "ContactUpdated" }

// OccurredAt implements Event.
func (e ContactCreated) OccurredAt() time.Time { return e.At }

// OccurredAt implements Event.
func (e ContactUpdated) OccurredAt() time.Time { return e.At }

func (ContactCreated) isContactEvent() {}
func (ContactUpdated) isContactEvent() {}

// Apply folds one event into the state. It is pure.
func Apply(a Contact, e Event) Contact {
	switch e := e.(type) {
	case ContactCreated:
		n := e.Contact
		n.Details = n.Details.clone()
		n.Version = a.Version + 1
		return n
	case ContactUpdated:
		a.Details = ApplyLeaves(a.Details, e.After, e.Changed)
		a.UpdatedAt = e.At
	case ContactErased:
		a.Details = a.Details.erased()
		a.Erased = true
		a.UpdatedAt = e.At
	}
	a.Version++
	return a
}

// ApplyAll folds events in order.
func ApplyAll(a Contact, events ...Event) Contact {
	for _, e := range events {
		a = Apply(a, e)
	}
	return a
}
