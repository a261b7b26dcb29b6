package lead

import (
	"fmt"
	"strings"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
)

// ReasonNotConvertible is the FailedPrecondition reason of a conversion of a lead whose status
// does not allow it (only SALES_QUALIFIED leads convert, SALES_ACCEPTED too when
// Settings.ConvertSalesAccepted).
const ReasonNotConvertible = "LEAD_NOT_CONVERTIBLE"

// Conversion is the last step of ConvertLead: the records the conversion created or linked. The
// saga creates them first (account, contact, opportunity) and then records the conversion on
// the lead, so the lead is CONVERTED only once everything it names exists.
type Conversion struct {
	// AccountID and ContactID are required: every conversion ends in an account and a contact.
	AccountID string
	ContactID string
	// OpportunityID is empty when the conversion opened no opportunity.
	OpportunityID string
	// AccountCreated and ContactCreated tell created records from linked existing ones.
	AccountCreated bool
	ContactCreated bool
	// ConvertedBy is the user who converted the lead.
	ConvertedBy string
}

// Records returns the ids of c as the lead keeps them.
func (c Conversion) Records(at time.Time) ConvertedRecords {
	return ConvertedRecords{AccountID: c.AccountID, ContactID: c.ContactID, OpportunityID: c.OpportunityID, ConvertedAt: at}
}

// SameRecords reports whether c names the records r names (the conversion time aside): a
// repeated conversion of a converted lead is the same request when it does.
func (c Conversion) SameRecords(r ConvertedRecords) bool {
	return c.AccountID == r.AccountID && c.ContactID == r.ContactID && c.OpportunityID == r.OpportunityID
}

// LeadConverted is recorded after the LeadStatusChanged to CONVERTED, in the same append: it
// names what the lead became and, for attribution without a lookup, the lead's source,
// campaign and owner at conversion.
type LeadConverted struct {
	Conversion
	Source     Source
	CampaignID string
	OwnerID    string
	At         time.Time
}

// EventType implements Event.
func (LeadConverted) EventType() string { return "LeadConverted" }

// OccurredAt implements Event.
func (e LeadConverted) OccurredAt() time.Time { return e.At }

func (LeadConverted) isLeadEvent() {}

// CanConvert checks, before the saga creates anything, that l may be converted now: it exists,
// was not merged, is not converted yet, and is SALES_QUALIFIED (or SALES_ACCEPTED when the
// tenant's settings allow it). A converted lead is FailedPrecondition LEAD_CONVERTED naming
// what it became (the app answers a repeat of the same conversion before asking).
func CanConvert(l Lead, s Settings) error {
	if err := existing(l); err != nil {
		return err
	}
	if l.Erased {
		return errErased(l)
	}
	if l.Status == StatusConverted {
		return errConverted(l)
	}
	if l.Status == StatusSQL || (l.Status == StatusSAL && s.ConvertSalesAccepted) {
		return nil
	}
	allowed := StatusSQL.String()
	if s.ConvertSalesAccepted {
		allowed = StatusSAL.String() + " and " + allowed
	}
	return apperr.Precondition(ReasonNotConvertible, "lead is %s: only %s leads can be converted", l.Status, allowed)
}

// errConverted names the records a converted lead became.
func errConverted(l Lead) error {
	parts := []string{"account " + l.Converted.AccountID, "contact " + l.Converted.ContactID}
	if l.Converted.OpportunityID != "" {
		parts = append(parts, "opportunity "+l.Converted.OpportunityID)
	}
	return apperr.Precondition(ReasonConverted, "lead was already converted into %s", strings.Join(parts, ", "))
}

// Convert decides the lead's side of a conversion: LeadStatusChanged to CONVERTED (carrying the
// records) and LeadConverted, appended together. Converting a converted lead into the same
// records yields no events (the saga's retry after the lead's append landed but its answer was
// lost); into other records it is FailedPrecondition LEAD_CONVERTED naming the records.
func Convert(l Lead, c Conversion, s Settings, now time.Time) ([]Event, error) {
	if err := existing(l); err != nil {
		return nil, err
	}
	var v apperr.Violations
	if !ValidID(c.AccountID) {
		v.Add("account_id", "must match [A-Za-z0-9_-]{1,64}")
	}
	if !ValidID(c.ContactID) {
		v.Add("contact_id", "must match [A-Za-z0-9_-]{1,64}")
	}
	if c.OpportunityID != "" && !ValidID(c.OpportunityID) {
		v.Add("opportunity_id", "must match [A-Za-z0-9_-]{1,64}")
	}
	if err := v.Err("invalid conversion"); err != nil {
		return nil, err
	}
	if l.Status == StatusConverted {
		if c.SameRecords(l.Converted) {
			return nil, nil
		}
		return nil, errConverted(l)
	}
	if err := CanConvert(l, s); err != nil {
		return nil, err
	}
	b := builder{l: l}
	b.emit(b.statusChange(StatusConverted, now, func(e *LeadStatusChanged) {
		e.Converted = c.Records(now)
		e.Reason = fmt.Sprintf("converted by %s", orUnknown(c.ConvertedBy))
	}))
	b.emit(LeadConverted{Conversion: c, Source: l.Source, CampaignID: l.CampaignID, OwnerID: l.OwnerID, At: now})
	return b.events, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown user"
	}
	return s
}
