package lead

import (
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
)

// ErasedMarker replaces every personal field of an erased person (libs/pii.Marker).
const ErasedMarker = "[erased]"

// ReasonErased is the Reason of the FailedPrecondition for a change to an erased lead.
const ReasonErased = "LEAD_ERASED"

// MaxEraseReasonLen bounds LeadErased.Reason.
const MaxEraseReasonLen = 200

// LeadErased records that the person behind the lead was erased (ErasePerson): their data key
// is destroyed, so the personal fields of the lead's earlier events no longer decrypt. The
// fold replaces those fields with ErasedMarker; the lead's non-personal facts stay.
type LeadErased struct {
	// Reason is free text without personal data (a ticket reference).
	Reason string
	At     time.Time
}

// EventType implements Event.
func (LeadErased) EventType() string { return "LeadErased" }

// OccurredAt implements Event.
func (e LeadErased) OccurredAt() time.Time { return e.At }

func (LeadErased) isLeadEvent() {}

// Erase decides ErasePerson for a lead: LeadErased, or nothing when the lead was erased
// already (the command is idempotent, so a retry after a lost answer changes nothing). A lead
// merged into another or converted can be erased too: the person's data is in its history.
func Erase(l Lead, reason string, now time.Time) ([]Event, error) {
	if !l.Exists() {
		return nil, errNotFound()
	}
	if len(reason) > MaxEraseReasonLen {
		return nil, apperr.InvalidFields("invalid erasure",
			apperr.FieldViolation{Field: "reason", Description: "at most 200 bytes"})
	}
	if l.Erased {
		return nil, nil
	}
	return []Event{LeadErased{Reason: reason, At: now}}, nil
}

// erased returns d with every personal field replaced by ErasedMarker. All of them, set or
// not: a read model rebuilt after the erasure cannot tell which were set (their ciphertext no
// longer opens), and must end with the same row.
func (d Details) erased() Details {
	d.FirstName, d.LastName, d.Email, d.Phone, d.City = ErasedMarker, ErasedMarker, ErasedMarker, ErasedMarker, ErasedMarker
	return d
}

// errErased refuses a change to an erased lead.
func errErased(l Lead) error {
	return apperr.Precondition(ReasonErased, "lead %s was erased", l.ID)
}
