package app

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

// ConversionIDs are the ids of the records a conversion of one lead creates. They are derived
// from (tenant, lead id, role) alone, so every attempt of the conversion — a retry after
// pipeline was down, after the process died between steps, or a concurrent identical call —
// addresses the same account, contact and opportunity, and the event store's optimistic
// concurrency and the pipeline's idempotency make the second creation a no-op instead of a
// duplicate.
type ConversionIDs struct {
	Account, Contact, Opportunity string
	// IdempotencyKey is the key CreateOpportunity gets: the same for every attempt.
	IdempotencyKey string
}

// DeriveConversionIDs returns the ids of the conversion of leadID in tenant.
func DeriveConversionIDs(tenant, leadID string) ConversionIDs {
	return ConversionIDs{
		Account:        derivedID(tenant, leadID, "account"),
		Contact:        derivedID(tenant, leadID, "contact"),
		Opportunity:    derivedID(tenant, leadID, "opportunity"),
		IdempotencyKey: "lead-conversion/" + leadID,
	}
}

// derivedID is a name-based UUID (RFC 9562 version 8, SHA-256 of the name): it looks like the
// UUIDv7s the services assign elsewhere and is a valid subject token.
func derivedID(tenant, leadID, role string) string {
	sum := sha256.Sum256([]byte("evcrm/lead-conversion\x00" + tenant + "\x00" + leadID + "\x00" + role))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80 // version 8
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// accountFromLead is the account a conversion creates: the lead's company and its facts. The
// name falls back to the person's name (a sole trader); the domain comes from the website, else
// from a business email address (never a free-mail provider's, which would make every Gmail
// lead one account).
func accountFromLead(l lead.Lead, owner string) account.Details {
	d := account.Details{
		Name:          strings.TrimSpace(l.Company),
		Website:       l.Website,
		Industry:      l.Industry,
		EmployeeCount: l.EmployeeCount,
		AnnualRevenue: l.AnnualRevenue,
		BillingAddress: account.Address{City: l.City, Region: l.Region,
			Country: l.Country},
		OwnerID: owner,
		Type:    account.TypeProspect,
	}
	if d.Name == "" {
		d.Name = personName(l)
	}
	d.Domain = account.NormalizeDomain(l.Website)
	if d.Domain == "" {
		d.Domain = businessEmailDomain(l.Email)
	}
	return d
}

func personName(l lead.Lead) string {
	if n := strings.TrimSpace(l.FirstName + " " + l.LastName); n != "" {
		return n
	}
	return l.Email
}

func businessEmailDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	d := account.NormalizeDomain(email[at+1:])
	if slices.Contains(scoring.FreeMailDomains, d) {
		return ""
	}
	return d
}

// contactFromLead is the contact a conversion creates: the person on the lead, at the account.
func contactFromLead(l lead.Lead, accountID, owner string) contact.Details {
	return contact.Details{
		FirstName:      l.FirstName,
		LastName:       l.LastName,
		Email:          l.Email,
		Phone:          l.Phone,
		JobTitle:       l.JobTitle,
		AccountID:      accountID,
		MailingAddress: account.Address{City: l.City, Region: l.Region, Country: l.Country},
		OwnerID:        owner,
		Source:         l.Source,
		Tags:           slices.Clone(l.Tags),
		// The person's opt-outs are theirs, not the lead record's: an unsubscribe must
		// survive the conversion so campaigns keep suppressing the contact.
		EmailOptOut:  l.EmailOptOut,
		DoNotContact: l.DoNotContact,
	}
}

// accountFillPaths are the account fields a linked account gains from the lead when it has no
// value: the mapping never overwrites a filled field. Name, owner and type are not among them:
// a linked account always has a name, and its owner and type are the account team's.
var accountFillPaths = []string{account.PathDomain, account.PathWebsite, account.PathIndustry,
	account.PathEmployeeCount, account.PathAnnualRevenue, account.PathBilling + ".city",
	account.PathBilling + ".region", account.PathBilling + ".country"}

// contactFillPaths are the contact fields a linked contact gains from the lead when empty;
// account_id links a contact that had no account to the conversion's. The opt-out flags are
// "empty" while false, so a linked contact gains an opt-out from the lead but never loses one.
var contactFillPaths = []string{contact.PathFirstName, contact.PathLastName, contact.PathEmail,
	contact.PathPhone, contact.PathJobTitle, contact.PathAccountID, contact.PathMailingAddress + ".city",
	contact.PathMailingAddress + ".region", contact.PathMailingAddress + ".country", contact.PathSource,
	contact.PathEmailOptOut, contact.PathDoNotContact}

// accountFill returns the update that fills the empty fields of existing from the lead's
// values in from (no paths: nothing to fill).
func accountFill(existing, from account.Details) account.Update {
	var paths []string
	for _, p := range accountFillPaths {
		have, lead := account.Pick(existing, []string{p}), account.Pick(from, []string{p})
		if isZeroAccount(have) && !isZeroAccount(lead) {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return account.Update{}
	}
	return account.Update{Paths: paths, Details: account.Pick(from, paths)}
}

// contactFill is accountFill for contacts.
func contactFill(existing, from contact.Details) contact.Update {
	var paths []string
	for _, p := range contactFillPaths {
		have, lead := contact.Pick(existing, []string{p}), contact.Pick(from, []string{p})
		if isZeroContact(have) && !isZeroContact(lead) {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return contact.Update{}
	}
	return contact.Update{Paths: paths, Details: contact.Pick(from, paths)}
}

func isZeroAccount(d account.Details) bool {
	return d.Name == "" && d.Domain == "" && d.Website == "" && d.Industry == "" && d.EmployeeCount == 0 &&
		d.AnnualRevenue.IsZero() && d.BillingAddress == (account.Address{})
}

func isZeroContact(d contact.Details) bool {
	return d.FirstName == "" && d.LastName == "" && d.Email == "" && d.Phone == "" && d.JobTitle == "" &&
		d.AccountID == "" && d.MailingAddress == (account.Address{}) && d.Source == lead.SourceUnspecified &&
		!d.EmailOptOut && !d.DoNotContact
}

// DefaultCloseAfter is how far ahead a conversion's opportunity is expected to close when
// neither the request nor the lead's BANT timeline says.
const DefaultCloseAfter = 90 * 24 * time.Hour

// opportunityFromLead fills the defaults ConversionOpportunity documents: the name
// "<company> - new business" (the person's name without a company), the amount from the BANT
// budget, the close date from the BANT timeline, else 90 days from now. A BANT timeline already
// in the past is not used (pipeline rejects close dates far in the past).
func opportunityFromLead(l lead.Lead, o ConversionOpportunity, now time.Time) ConversionOpportunity {
	if strings.TrimSpace(o.Name) == "" {
		who := strings.TrimSpace(l.Company)
		if who == "" {
			who = personName(l)
		}
		o.Name = who + " - new business"
	}
	if o.Amount.IsZero() {
		o.Amount = l.Bant.Budget
	}
	if o.ExpectedCloseDate == "" {
		close := now.Add(DefaultCloseAfter)
		if t := l.Bant.Timeline; !t.IsZero() && !t.Before(now.Truncate(24*time.Hour)) {
			close = t
		}
		o.ExpectedCloseDate = close.UTC().Format(time.DateOnly)
	}
	o.Name = strings.TrimSpace(o.Name)
	return o
}
