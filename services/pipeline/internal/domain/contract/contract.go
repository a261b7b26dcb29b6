// Package contract is the contract aggregate (aggregate type "contract", ids chosen by the
// caller): the agreement that follows a won opportunity — term, value, terms text, renewal date
// and status (draft → active → expired | terminated; an active or expired contract can be
// renewed).
//
// Terms. StartDate…EndDate (inclusive) is the whole contract; TermStart…EndDate is the current
// term, which a renewal extends. The renewal date is when the renewal conversation is due:
// by default 30 days before the end date (never before the start). A contract "nears renewal"
// from its renewal date until its end date (DueForRenewal), which is what the renewal query
// lists.
//
// Auto-renewal. The expiry sweep (Expire) renews an auto-renewing contract instead of expiring
// it: the term repeats (whole months when the term starts and ends on month-day boundaries,
// else the same number of days) at the same value, as often as needed to cover today, recorded
// as ContractRenewed with Automatic set.
package contract

import (
	"strconv"
	"time"

	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
)

// AggregateType is the event store's aggregate type of contracts.
const AggregateType = "contract"

// DefaultRenewalNoticeDays is how many days before the end date the renewal date falls by
// default.
const DefaultRenewalNoticeDays = 30

// Status is a contract's status. Numbering follows the proto enum of the same name.
type Status int

// Contract statuses.
const (
	StatusUnspecified Status = iota
	StatusDraft
	StatusActive
	StatusExpired
	StatusTerminated
)

var statusNames = [...]string{"UNSPECIFIED", "DRAFT", "ACTIVE", "EXPIRED", "TERMINATED"}

// String returns the upper-case name, e.g. "ACTIVE".
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "status(" + strconv.Itoa(int(s)) + ")"
}

// Details are the fields ContractUpdated changes by field mask.
type Details struct {
	OwnerID string
	// StartDate and EndDate bound the contract, inclusive; StartDate ≤ EndDate.
	StartDate civil.Date
	EndDate   civil.Date
	// Value is ≥ 0 in minor units of its currency.
	Value money.Money
	// Terms is the contract's terms, free text.
	Terms string
	// RenewalDate lies within StartDate…EndDate.
	RenewalDate civil.Date
	AutoRenew   bool
}

// Contract is the state of one contract, folded from its events. The zero Contract means it
// does not exist.
type Contract struct {
	ID string
	// Version is the number of events folded.
	Version       uint64
	OpportunityID string
	AccountID     string
	Details
	// TermStart is the first day of the current term: StartDate, then the day after the old
	// end date after each renewal.
	TermStart civil.Date
	Status    Status
	// TerminationReason and TerminatedOn are set once terminated.
	TerminationReason string
	TerminatedOn      civil.Date
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Exists reports whether the contract has been created.
func (c Contract) Exists() bool { return c.Version > 0 }

// DueForRenewal reports whether an active contract is in its renewal window on day today:
// on or after its renewal date and not after its end date.
func (c Contract) DueForRenewal(today civil.Date) bool {
	return c.Status == StatusActive && !today.Before(c.RenewalDate) && !today.After(c.EndDate)
}

// DefaultRenewalDate returns the default renewal date of a contract from start to end:
// DefaultRenewalNoticeDays before end, but not before start.
func DefaultRenewalDate(start, end civil.Date) civil.Date {
	d := end.AddDays(-DefaultRenewalNoticeDays)
	if d.Before(start) {
		return start
	}
	return d
}

// nextTermEnd returns the end of the term that follows the term start…end: whole months when
// start and the day after end fall on the same day of the month (≤ 28, so no month overflows),
// else the same number of days.
func nextTermEnd(start, end civil.Date) civil.Date {
	next := end.AddDays(1)
	if next.Day == start.Day && start.Day <= 28 {
		months := (next.Year-start.Year)*12 + int(next.Month) - int(start.Month)
		return civil.DateOf(next.Time().AddDate(0, months, 0)).AddDays(-1)
	}
	return end.AddDays(end.DaysSince(start) + 1)
}
