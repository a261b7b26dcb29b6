// Package contact is the contact aggregate (aggregate type "contact"): a person the tenant
// deals with, usually at an account. It holds the state (Contact), the events
// (ContactCreated, ContactUpdated), the fold (Apply) and the pure decisions (Create,
// UpdateDetails). Uniqueness of the email (DedupeKeys) and the existence of the linked account
// need other records: the app checks them.
//
// Personal data: FirstName, LastName, Email, Phone, MobilePhone, the mailing address's street,
// city and postal code, the Description and the custom fields' string values (free text; marked
// pii in the proto).
package contact

import (
	"slices"
	"time"

	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/dedupe"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// AggregateType is the event store's aggregate type of contacts.
const AggregateType = "contact"

// Role is the part a contact plays in buying decisions.
type Role int

// Roles; the values are those of crm.leads.v1.ContactRole.
const (
	RoleUnspecified Role = iota
	RoleDecisionMaker
	RoleEconomicBuyer
	RoleInfluencer
	RoleChampion
	RoleUser
	RoleOther
)

// Valid reports whether r is a declared role other than unspecified.
func (r Role) Valid() bool { return r > RoleUnspecified && r <= RoleOther }

// Details are the fields of a contact that CreateContact takes and UpdateContact changes by
// field mask.
type Details struct {
	FirstName   string
	LastName    string
	Email       string
	Phone       string
	MobilePhone string
	JobTitle    string
	Department  string
	// AccountID links the contact to an account; "" for a contact on its own.
	AccountID string
	// Roles are a set, sorted.
	Roles          []Role
	EmailOptOut    bool
	DoNotContact   bool
	MailingAddress account.Address
	OwnerID        string
	Source         lead.Source
	// Tags are a set: lower case, sorted, unique.
	Tags         []string
	CustomFields map[string]customfield.Value
	Description  string
}

func (d Details) clone() Details {
	d.Tags = slices.Clone(d.Tags)
	d.Roles = slices.Clone(d.Roles)
	if d.CustomFields != nil {
		m := make(map[string]customfield.Value, len(d.CustomFields))
		for k, v := range d.CustomFields {
			m[k] = v
		}
		d.CustomFields = m
	}
	return d
}

// Contact is the state of one contact, folded from its events. The zero Contact does not exist.
type Contact struct {
	ID      string
	Version uint64
	Details
	// SourceLeadID is the lead whose conversion created the contact.
	SourceLeadID string
	// Erased is set once the contact was erased (ContactErased): the personal fields hold
	// lead.ErasedMarker and the contact takes no more changes.
	Erased    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Exists reports whether the contact has been created.
func (c Contact) Exists() bool { return c.Version > 0 }

// Emailable reports whether marketing email may be sent to the contact.
func (c Contact) Emailable() bool { return c.Email != "" && !c.EmailOptOut && !c.DoNotContact }

// Policy is what the tenant's configuration contributes to contact decisions.
type Policy struct {
	// CustomFields are the tenant's contact field definitions.
	CustomFields map[string]customfield.Definition
}

// DedupeKeys returns the uniqueness keys of a contact: its normalised email, when it has one.
func DedupeKeys(d Details) []string {
	if e := dedupe.NormalizeEmail(d.Email); e != "" {
		return []string{dedupe.Key(dedupe.KindEmail, e)}
	}
	return nil
}
