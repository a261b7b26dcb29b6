package contact

import (
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// ReasonErased is the Reason of the FailedPrecondition for a change to an erased contact.
const ReasonErased = "CONTACT_ERASED"

// ContactErased records that the contact was erased (ErasePerson): see lead.LeadErased.
type ContactErased struct {
	// Reason is free text without personal data.
	Reason string
	At     time.Time
}

// EventType implements Event.
func (ContactErased) EventType() string { return "ContactErased" }

// OccurredAt implements Event.
func (e ContactErased) OccurredAt() time.Time { return e.At }

func (ContactErased) isContactEvent() {}

// Erase decides ErasePerson for a contact: ContactErased, or nothing when it was erased
// already.
func Erase(c Contact, reason string, now time.Time) ([]Event, error) {
	if !c.Exists() {
		return nil, apperr.NotFoundf("contact", c.ID)
	}
	if len(reason) > lead.MaxEraseReasonLen {
		return nil, apperr.InvalidFields("invalid erasure",
			apperr.FieldViolation{Field: "reason", Description: "at most 200 bytes"})
	}
	if c.Erased {
		return nil, nil
	}
	return []Event{ContactErased{Reason: reason, At: now}}, nil
}

// erased returns d with every personal field (names, email, phones, the mailing address's
// street, city and postal code, the description, the custom fields' string values) replaced by
// lead.ErasedMarker, set or not (see lead's). The custom fields are copied, not changed in
// place: Apply does not clone them.
func (d Details) erased() Details {
	for _, s := range []*string{&d.FirstName, &d.LastName, &d.Email, &d.Phone, &d.MobilePhone,
		&d.MailingAddress.Street, &d.MailingAddress.City, &d.MailingAddress.PostalCode, &d.Description} {
		*s = lead.ErasedMarker
	}
	d.CustomFields = lead.ErasedCustomFields(d.CustomFields)
	return d
}
