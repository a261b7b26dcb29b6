package account

import (
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/fieldpath"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// Field-mask paths of Details. UpdateDetails also accepts "billing_address" and
// "shipping_address" (all their fields), "custom_fields" (the whole map) and
// "custom_fields.<name>"; events list leaf paths only.
const (
	PathName            = "name"
	PathDomain          = "domain"
	PathWebsite         = "website"
	PathIndustry        = "industry"
	PathEmployeeCount   = "employee_count"
	PathAnnualRevenue   = "annual_revenue"
	PathBilling         = "billing_address"
	PathShipping        = "shipping_address"
	PathPhone           = "phone"
	PathParentAccountID = "parent_account_id"
	PathOwnerID         = "owner_id"
	PathTerritoryID     = "territory_id"
	PathType            = "type"
	PathTags            = "tags"
	PathDescription     = "description"
	PathCustomFields    = fieldpath.CustomFields
	customPrefix        = fieldpath.CustomPrefix
)

// Address leaf names, under PathBilling and PathShipping.
var addressLeaves = []string{"street", "city", "region", "postal_code", "country"}

// AddressField returns the field of a named by leaf ("city"), for reading and writing.
func AddressField(a *Address, leaf string) *string {
	switch leaf {
	case "street":
		return &a.Street
	case "city":
		return &a.City
	case "region":
		return &a.Region
	case "postal_code":
		return &a.PostalCode
	case "country":
		return &a.Country
	}
	return nil
}

// AddressFields returns the leaves of an Address, to nest under a path with fieldpath.Group.
func AddressFields() []fieldpath.Field[Address] {
	out := make([]fieldpath.Field[Address], len(addressLeaves))
	for i, l := range addressLeaves {
		out[i] = fieldpath.Value(l, func(a *Address) *string { return AddressField(a, l) })
	}
	return out
}

// fields lists the leaves of Details in canonical order.
var fields = fieldpath.New(func(d *Details) *map[string]customfield.Value { return &d.CustomFields },
	fieldpath.Value(PathName, func(d *Details) *string { return &d.Name }),
	fieldpath.Value(PathDomain, func(d *Details) *string { return &d.Domain }),
	fieldpath.Value(PathWebsite, func(d *Details) *string { return &d.Website }),
	fieldpath.Value(PathIndustry, func(d *Details) *string { return &d.Industry }),
	fieldpath.Value(PathEmployeeCount, func(d *Details) *int64 { return &d.EmployeeCount }),
	fieldpath.Value(PathAnnualRevenue, func(d *Details) *lead.Money { return &d.AnnualRevenue }),
	fieldpath.Group(PathBilling, func(d *Details) *Address { return &d.BillingAddress }, AddressFields()...),
	fieldpath.Group(PathShipping, func(d *Details) *Address { return &d.ShippingAddress }, AddressFields()...),
	fieldpath.Value(PathPhone, func(d *Details) *string { return &d.Phone }),
	fieldpath.Value(PathParentAccountID, func(d *Details) *string { return &d.ParentAccountID }),
	fieldpath.Value(PathOwnerID, func(d *Details) *string { return &d.OwnerID }),
	fieldpath.Value(PathTerritoryID, func(d *Details) *string { return &d.TerritoryID }),
	fieldpath.Value(PathType, func(d *Details) *Type { return &d.Type }),
	fieldpath.Slice(PathTags, func(d *Details) *[]string { return &d.Tags }),
	fieldpath.Value(PathDescription, func(d *Details) *string { return &d.Description }),
)

// ExpandPath returns the leaf paths a mask path names (an address names its five fields) and
// whether the path is known. "custom_fields" expands to nothing here: the caller lists the
// names in play.
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

// sortLeaves orders leaf paths canonically and drops duplicates.
func sortLeaves(paths []string) []string { return fields.Sort(paths) }

func customLeaves(ds ...Details) []string { return fields.CustomLeaves(ds...) }
