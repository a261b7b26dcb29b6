package account

import "time"

// Event is a fact about one account; the codec maps each type to the crm.leads.v1 message of
// the same name.
type Event interface {
	// EventType is the event's name and the last token of its subject.
	EventType() string
	// OccurredAt is when the fact happened.
	OccurredAt() time.Time
	isAccountEvent()
}

// AccountCreated is the first event of every account: the account as created, with territory
// and owner.
type AccountCreated struct {
	Account Account
	At      time.Time
}

// AccountUpdated records changed fields: Changed lists the leaf paths in canonical order,
// Before and After hold the old and new values of exactly those paths.
type AccountUpdated struct {
	Changed []string
	Before  Details
	After   Details
	At      time.Time
}

// EventType implements Event.
func (AccountCreated) EventType() string { return "AccountCreated" }

// EventType implements Event.
func (AccountUpdated) EventType() string { return "AccountUpdated" }

// OccurredAt implements Event.
func (e AccountCreated) OccurredAt() time.Time { return e.At }

// OccurredAt implements Event.
func (e AccountUpdated) OccurredAt() time.Time { return e.At }

func (AccountCreated) isAccountEvent() {}
func (AccountUpdated) isAccountEvent() {}

// Apply folds one event into the state. It is pure.
func Apply(a Account, e Event) Account {
	switch e := e.(type) {
	case AccountCreated:
		n := e.Account
		n.Details = n.Details.clone()
		n.Version = a.Version + 1
		return n
	case AccountUpdated:
		a.Details = ApplyLeaves(a.Details, e.After, e.Changed)
		a.UpdatedAt = e.At
	}
	a.Version++
	return a
}

// ApplyAll folds events in order.
func ApplyAll(a Account, events ...Event) Account {
	for _, e := range events {
		a = Apply(a, e)
	}
	return a
}
