package lead

import (
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
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

// erased returns d with every personal field replaced by ErasedMarker: names, email, phone,
// city, the source detail and the custom fields' string values (free text). All of them, set
// or not: a read model rebuilt after the erasure cannot tell which were set (their ciphertext
// no longer opens), and must end with the same row.
func (d Details) erased() Details {
	for _, s := range []*string{&d.FirstName, &d.LastName, &d.Email, &d.Phone, &d.City, &d.SourceDetail} {
		*s = ErasedMarker
	}
	d.CustomFields = ErasedCustomFields(d.CustomFields)
	return d
}

// erased returns b with its free text (authority and need notes) replaced by ErasedMarker;
// the budget, timeline and the confirmed flags are facts and stay.
func (b Bant) erased() Bant {
	b.Authority, b.Need = ErasedMarker, ErasedMarker
	return b
}

// ErasedCustomFields returns a copy of a lead's or contact's custom fields with every string
// value replaced by ErasedMarker. A value without a type is one whose string was sealed and
// no longer opens (the event keeps the field's name in clear, not its value): it becomes the
// marker too, so a rebuilt read model ends with the same values. Numbers, bools and dates are
// not free text and stay.
func ErasedCustomFields(m map[string]customfield.Value) map[string]customfield.Value {
	if m == nil {
		return nil
	}
	out := make(map[string]customfield.Value, len(m))
	for k, v := range m {
		if v.Type == customfield.TypeString || v.Type == customfield.TypeUnspecified {
			v = customfield.StringValue(ErasedMarker)
		}
		out[k] = v
	}
	return out
}

// errErased refuses a change to an erased lead.
func errErased(l Lead) error {
	return apperr.Precondition(ReasonErased, "lead %s was erased", l.ID)
}
