// Package account is the account aggregate (aggregate type "account"): an organisation the
// tenant deals with — prospect, customer, partner, competitor. It holds the state (Account),
// the events (AccountCreated, AccountUpdated), the fold (Apply) and the pure decisions
// (Create, UpdateDetails). Uniqueness of the dedupe key (DedupeKey) and the existence of a
// parent account need other records: the app checks them and passes what the decision needs.
package account

import (
	"slices"
	"time"

	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

// AggregateType is the event store's aggregate type of accounts.
const AggregateType = "account"

// Address is a postal address. Country is an ISO 3166-1 alpha-2 code, upper case.
type Address struct {
	// Street lines, newline separated.
	Street     string
	City       string
	Region     string
	PostalCode string
	Country    string
}

// Type is what an organisation is to the tenant.
type Type int

// Account types; the values are those of crm.leads.v1.AccountType.
const (
	TypeUnspecified Type = iota
	TypeProspect
	TypeCustomer
	TypePartner
	TypeCompetitor
	TypeOther
)

// Valid reports whether t is a declared type (unspecified included: it means "not said").
func (t Type) Valid() bool { return t >= TypeUnspecified && t <= TypeOther }

// Details are the fields of an account that CreateAccount takes and UpdateAccount changes by
// field mask.
type Details struct {
	Name string
	// Domain is normalised (NormalizeDomain): "acme.com".
	Domain          string
	Website         string
	Industry        string
	EmployeeCount   int64
	AnnualRevenue   lead.Money
	BillingAddress  Address
	ShippingAddress Address
	Phone           string
	ParentAccountID string
	OwnerID         string
	TerritoryID     string
	Type            Type
	// Tags are a set: lower case, sorted, unique.
	Tags         []string
	CustomFields map[string]customfield.Value
	Description  string
}

func (d Details) clone() Details {
	d.Tags = slices.Clone(d.Tags)
	if d.CustomFields != nil {
		m := make(map[string]customfield.Value, len(d.CustomFields))
		for k, v := range d.CustomFields {
			m[k] = v
		}
		d.CustomFields = m
	}
	return d
}

// Account is the state of one account, folded from its events. The zero Account does not
// exist. Apply and the decisions never modify the maps and slices of an Account they are given.
type Account struct {
	ID string
	// Version is the number of events folded.
	Version uint64
	Details
	// SourceLeadID is the lead whose conversion created the account.
	SourceLeadID string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Exists reports whether the account has been created.
func (a Account) Exists() bool { return a.Version > 0 }

// Policy is what the tenant's configuration contributes to account decisions.
type Policy struct {
	// Territories in match order (territory.Sort).
	Territories []territory.Territory
	// CustomFields are the tenant's account field definitions.
	CustomFields map[string]customfield.Definition
}

// ValidID reports whether id can be an account id ([A-Za-z0-9_-]{1,64}).
func ValidID(id string) bool { return lead.ValidID(id) }
