package contract

import (
	"slices"
	"time"

	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
)

// Event is a fact about one contract. The set is closed (the unexported method): the app's codec
// maps each type to the crm.pipeline.v1 message of the same name.
type Event interface {
	// EventType is the event's name and the last token of its subject, e.g. "ContractRenewed".
	EventType() string
	// OccurredAt is when the fact happened (the decision's now).
	OccurredAt() time.Time
	isContractEvent()
}

// ContractCreated is the first event of every contract: the contract as created, a draft.
type ContractCreated struct {
	Contract Contract
	At       time.Time
}

// ContractActivated says the contract is in force.
type ContractActivated struct {
	At time.Time
}

// ContractUpdated records changed fields. Changed lists the paths that changed in canonical
// order (see Paths); Before and After hold the old and new values of exactly those paths.
type ContractUpdated struct {
	Changed []string
	Before  Details
	After   Details
	At      time.Time
}

// ContractTerminated ends the contract early; EffectiveDate is the last day it applies.
type ContractTerminated struct {
	Reason        string
	EffectiveDate civil.Date
	At            time.Time
}

// ContractExpired says an active contract's end date passed without renewal.
type ContractExpired struct {
	At time.Time
}

// ContractRenewed extends the contract to NewEndDate (the new term starts the day after the old
// end date) at NewValue, with NewRenewalDate. Automatic is true when the expiry sweep renewed an
// auto-renewing contract.
type ContractRenewed struct {
	NewEndDate     civil.Date
	NewRenewalDate civil.Date
	NewValue       money.Money
	Automatic      bool
	At             time.Time
}

// EventType implements Event.
func (ContractCreated) EventType() string    { return "ContractCreated" }
func (ContractActivated) EventType() string  { return "ContractActivated" }
func (ContractUpdated) EventType() string    { return "ContractUpdated" }
func (ContractTerminated) EventType() string { return "ContractTerminated" }
func (ContractExpired) EventType() string    { return "ContractExpired" }
func (ContractRenewed) EventType() string    { return "ContractRenewed" }

// OccurredAt implements Event.
func (e ContractCreated) OccurredAt() time.Time    { return e.At }
func (e ContractActivated) OccurredAt() time.Time  { return e.At }
func (e ContractUpdated) OccurredAt() time.Time    { return e.At }
func (e ContractTerminated) OccurredAt() time.Time { return e.At }
func (e ContractExpired) OccurredAt() time.Time    { return e.At }
func (e ContractRenewed) OccurredAt() time.Time    { return e.At }

func (ContractCreated) isContractEvent()    {}
func (ContractActivated) isContractEvent()  {}
func (ContractUpdated) isContractEvent()    {}
func (ContractTerminated) isContractEvent() {}
func (ContractExpired) isContractEvent()    {}
func (ContractRenewed) isContractEvent()    {}

// Apply folds one event into the state. It is pure.
func Apply(c Contract, e Event) Contract {
	if cr, ok := e.(ContractCreated); ok {
		n := cr.Contract
		n.Version = c.Version + 1
		return n
	}
	c.Version++
	c.UpdatedAt = e.OccurredAt()
	switch e := e.(type) {
	case ContractActivated:
		c.Status = StatusActive
	case ContractUpdated:
		// Until the first renewal the current term starts with the contract.
		if slices.Contains(e.Changed, PathStartDate) && c.TermStart == e.Before.StartDate {
			c.TermStart = e.After.StartDate
		}
		for _, p := range e.Changed {
			setField(&c.Details, e.After, p)
		}
	case ContractTerminated:
		c.Status = StatusTerminated
		c.TerminationReason, c.TerminatedOn = e.Reason, e.EffectiveDate
	case ContractExpired:
		c.Status = StatusExpired
	case ContractRenewed:
		c.TermStart = c.EndDate.AddDays(1)
		c.EndDate, c.RenewalDate, c.Value = e.NewEndDate, e.NewRenewalDate, e.NewValue
		c.Status = StatusActive
	}
	return c
}

// ApplyAll folds events in order.
func ApplyAll(c Contract, events ...Event) Contract {
	for _, e := range events {
		c = Apply(c, e)
	}
	return c
}
