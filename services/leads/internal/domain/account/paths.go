package account

import (
	"sort"
	"strings"

	"github.com/evcrm/evcrm/libs/customfield"
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
	PathCustomFields    = "custom_fields"
	customPrefix        = PathCustomFields + "."
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

// AddressPaths returns the leaf paths of the address at prefix ("billing_address").
func AddressPaths(prefix string) []string {
	out := make([]string, len(addressLeaves))
	for i, l := range addressLeaves {
		out[i] = prefix + "." + l
	}
	return out
}

type accessor struct {
	get func(Details) any // a comparable value; the zero Details gives the empty value
	set func(dst *Details, src Details)
}

var (
	scalarPaths []string
	accessors   = map[string]accessor{}
)

func add(path string, get func(Details) any, set func(*Details, Details)) {
	scalarPaths = append(scalarPaths, path)
	accessors[path] = accessor{get, set}
}

func init() {
	add(PathName, func(d Details) any { return d.Name }, func(d *Details, s Details) { d.Name = s.Name })
	add(PathDomain, func(d Details) any { return d.Domain }, func(d *Details, s Details) { d.Domain = s.Domain })
	add(PathWebsite, func(d Details) any { return d.Website }, func(d *Details, s Details) { d.Website = s.Website })
	add(PathIndustry, func(d Details) any { return d.Industry }, func(d *Details, s Details) { d.Industry = s.Industry })
	add(PathEmployeeCount, func(d Details) any { return d.EmployeeCount }, func(d *Details, s Details) { d.EmployeeCount = s.EmployeeCount })
	add(PathAnnualRevenue, func(d Details) any { return d.AnnualRevenue }, func(d *Details, s Details) { d.AnnualRevenue = s.AnnualRevenue })
	for _, pre := range []string{PathBilling, PathShipping} {
		addr := func(d *Details) *Address {
			if pre == PathBilling {
				return &d.BillingAddress
			}
			return &d.ShippingAddress
		}
		for _, leaf := range addressLeaves {
			add(pre+"."+leaf,
				func(d Details) any { return *AddressField(addr(&d), leaf) },
				func(d *Details, s Details) { *AddressField(addr(d), leaf) = *AddressField(addr(&s), leaf) })
		}
	}
	add(PathPhone, func(d Details) any { return d.Phone }, func(d *Details, s Details) { d.Phone = s.Phone })
	add(PathParentAccountID, func(d Details) any { return d.ParentAccountID }, func(d *Details, s Details) { d.ParentAccountID = s.ParentAccountID })
	add(PathOwnerID, func(d Details) any { return d.OwnerID }, func(d *Details, s Details) { d.OwnerID = s.OwnerID })
	add(PathTerritoryID, func(d Details) any { return d.TerritoryID }, func(d *Details, s Details) { d.TerritoryID = s.TerritoryID })
	add(PathType, func(d Details) any { return d.Type }, func(d *Details, s Details) { d.Type = s.Type })
	add(PathTags, func(d Details) any { return strings.Join(d.Tags, "\x00") }, func(d *Details, s Details) { d.Tags = append([]string(nil), s.Tags...) })
	add(PathDescription, func(d Details) any { return d.Description }, func(d *Details, s Details) { d.Description = s.Description })
}

// Paths returns every leaf path of Details that is not a custom field, in canonical order.
func Paths() []string { return append([]string(nil), scalarPaths...) }

// ExpandPath returns the leaf paths a mask path names (an address names its five fields) and
// whether the path is known. "custom_fields" expands to nothing here: the caller lists the
// names in play.
func ExpandPath(path string) ([]string, bool) {
	switch {
	case path == PathBilling || path == PathShipping:
		return AddressPaths(path), true
	case path == PathCustomFields:
		return nil, true
	}
	if _, ok := accessors[path]; ok {
		return []string{path}, true
	}
	if _, ok := customName(path); ok {
		return []string{path}, true
	}
	return nil, false
}

func customName(path string) (string, bool) {
	name, ok := strings.CutPrefix(path, customPrefix)
	return name, ok && customfield.ValidName(name)
}

func leafEqual(a, b Details, path string) bool {
	if acc, ok := accessors[path]; ok {
		return acc.get(a) == acc.get(b)
	}
	name, _ := customName(path)
	va, oka := a.CustomFields[name]
	vb, okb := b.CustomFields[name]
	return oka == okb && va == vb
}

// setLeaf copies the leaf path from src to dst; dst.CustomFields must be dst's own map.
func setLeaf(dst *Details, src Details, path string) {
	if acc, ok := accessors[path]; ok {
		acc.set(dst, src)
		return
	}
	name, _ := customName(path)
	if v, ok := src.CustomFields[name]; ok {
		if dst.CustomFields == nil {
			dst.CustomFields = map[string]customfield.Value{}
		}
		dst.CustomFields[name] = v
	} else {
		delete(dst.CustomFields, name)
	}
}

// Pick returns a Details holding only the given leaf paths of d.
func Pick(d Details, paths []string) Details {
	var out Details
	for _, p := range paths {
		setLeaf(&out, d, p)
	}
	return out
}

// ApplyLeaves returns d with the leaf paths taken from src (d is not modified).
func ApplyLeaves(d, src Details, paths []string) Details {
	d = d.clone()
	for _, p := range paths {
		setLeaf(&d, src, p)
	}
	return d
}

// sortLeaves orders leaf paths canonically and drops duplicates.
func sortLeaves(paths []string) []string {
	rank := make(map[string]int, len(scalarPaths))
	for i, p := range scalarPaths {
		rank[p] = i
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, iok := rank[out[i]]
		rj, jok := rank[out[j]]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok:
			return iok
		}
		return out[i] < out[j]
	})
	return out
}

func customLeaves(ds ...Details) []string {
	var out []string
	for _, d := range ds {
		for name := range d.CustomFields {
			out = append(out, customPrefix+name)
		}
	}
	return sortLeaves(out)
}
