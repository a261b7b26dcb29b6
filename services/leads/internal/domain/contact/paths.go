package contact

import (
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/fieldpath"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// Field-mask paths of Details. UpdateDetails also accepts "mailing_address" (all its fields),
// "custom_fields" (the whole map) and "custom_fields.<name>"; events list leaf paths only.
const (
	PathFirstName      = "first_name"
	PathLastName       = "last_name"
	PathEmail          = "email"
	PathPhone          = "phone"
	PathMobilePhone    = "mobile_phone"
	PathJobTitle       = "job_title"
	PathDepartment     = "department"
	PathAccountID      = "account_id"
	PathRoles          = "roles"
	PathEmailOptOut    = "email_opt_out"
	PathDoNotContact   = "do_not_contact"
	PathMailingAddress = "mailing_address"
	PathOwnerID        = "owner_id"
	PathSource         = "source"
	PathTags           = "tags"
	PathCustomFields   = fieldpath.CustomFields
	PathDescription    = "description"
	customPrefix       = fieldpath.CustomPrefix
)

// fields lists the leaves of Details in canonical order.
var fields = fieldpath.New(func(d *Details) *map[string]customfield.Value { return &d.CustomFields },
	fieldpath.Value(PathFirstName, func(d *Details) *string { return &d.FirstName }),
	fieldpath.Value(PathLastName, func(d *Details) *string { return &d.LastName }),
	fieldpath.Value(PathEmail, func(d *Details) *string { return &d.Email }),
	fieldpath.Value(PathPhone, func(d *Details) *string { return &d.Phone }),
	fieldpath.Value(PathMobilePhone, func(d *Details) *string { return &d.MobilePhone }),
	fieldpath.Value(PathJobTitle, func(d *Details) *string { return &d.JobTitle }),
	fieldpath.Value(PathDepartment, func(d *Details) *string { return &d.Department }),
	fieldpath.Value(PathAccountID, func(d *Details) *string { return &d.AccountID }),
	fieldpath.Slice(PathRoles, func(d *Details) *[]Role { return &d.Roles }),
	fieldpath.Value(PathEmailOptOut, func(d *Details) *bool { return &d.EmailOptOut }),
	fieldpath.Value(PathDoNotContact, func(d *Details) *bool { return &d.DoNotContact }),
	fieldpath.Group(PathMailingAddress, func(d *Details) *account.Address { return &d.MailingAddress },
		account.AddressFields()...),
	fieldpath.Value(PathOwnerID, func(d *Details) *string { return &d.OwnerID }),
	fieldpath.Value(PathSource, func(d *Details) *lead.Source { return &d.Source }),
	fieldpath.Slice(PathTags, func(d *Details) *[]string { return &d.Tags }),
	fieldpath.Value(PathDescription, func(d *Details) *string { return &d.Description }),
)

// ExpandPath returns the leaf paths a mask path names and whether it is known.
// "custom_fields" expands to nothing here: the caller lists the names in play.
func ExpandPath(path string) ([]string, bool) { return fields.Expand(path) }

func leafEqual(a, b Details, path string) bool { return fields.Equal(a, b, path) }

// Pick returns a Details holding only the given leaf paths of d.
func Pick(d Details, paths []string) Details { return fields.Pick(d, paths...) }

// ApplyLeaves returns d with the leaf paths taken from src (d is not modified).
func ApplyLeaves(d, src Details, paths []string) Details {
	d = d.clone()
	fields.Copy(&d, src, paths...)
	return d
}

func sortLeaves(paths []string) []string { return fields.Sort(paths) }

func customLeaves(ds ...Details) []string { return fields.CustomLeaves(ds...) }
