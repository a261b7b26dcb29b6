package accountmodel

import (
	"time"

	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
)

// Page sizes of lists and searches.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// AccountOrder is the sort key of ListAccounts; ties are broken by id.
type AccountOrder int

// Account sort keys (the values of crm.leads.v1.AccountOrderBy).
const (
	AccountOrderCreatedAt AccountOrder = iota + 1
	AccountOrderUpdatedAt
	AccountOrderName
)

// AccountListQuery filters and pages accounts; zero fields do not filter.
type AccountListQuery struct {
	Tenant          string
	Types           []account.Type
	OwnerIDs        []string
	TerritoryIDs    []string
	Industry        string
	Country         string
	Tag             string
	ParentAccountID string
	CreatedAfter    time.Time
	CreatedBefore   time.Time
	UpdatedAfter    time.Time
	UpdatedBefore   time.Time
	// Scope is the caller's row-level scope (nil: every account); request filters narrow it.
	Scope      *Scope
	OrderBy    AccountOrder
	Descending bool
	// PageSize is 1 to MaxPageSize; DefaultPageSize when 0.
	PageSize  int
	PageToken string
}

// ContactOrder is the sort key of ListContacts; ties are broken by id.
type ContactOrder int

// Contact sort keys (the values of crm.leads.v1.ContactOrderBy).
const (
	ContactOrderCreatedAt ContactOrder = iota + 1
	ContactOrderUpdatedAt
	ContactOrderLastName
)

// ContactListQuery filters and pages contacts; zero fields do not filter.
type ContactListQuery struct {
	Tenant    string
	AccountID string
	OwnerIDs  []string
	// Roles: contacts holding any of them.
	Roles []contact.Role
	Tag   string
	// EmailableOnly keeps contacts with an email that are neither opted out nor do-not-contact.
	EmailableOnly bool
	Country       string
	CreatedAfter  time.Time
	CreatedBefore time.Time
	UpdatedAfter  time.Time
	UpdatedBefore time.Time
	// Scope is the caller's row-level scope (nil: every contact); request filters narrow it.
	Scope      *Scope
	OrderBy    ContactOrder
	Descending bool
	PageSize   int
	PageToken  string
}

// SearchQuery finds records by words: every word must match a word of the indexed fields, the
// last one also as a prefix.
type SearchQuery struct {
	Tenant string
	Query  string
	// Scope is the caller's row-level scope (nil: every record).
	Scope     *Scope
	PageSize  int
	PageToken string
}
