package contact

import (
	"fmt"
	"sort"
	"strings"

	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
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
	PathCustomFields   = "custom_fields"
	PathDescription    = "description"
	customPrefix       = PathCustomFields + "."
)

type accessor struct {
	get func(Details) any
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
	str := func(path string, f func(*Details) *string) {
		add(path, func(d Details) any { return *f(&d) }, func(d *Details, s Details) { *f(d) = *f(&s) })
	}
	str(PathFirstName, func(d *Details) *string { return &d.FirstName })
	str(PathLastName, func(d *Details) *string { return &d.LastName })
	str(PathEmail, func(d *Details) *string { return &d.Email })
	str(PathPhone, func(d *Details) *string { return &d.Phone })
	str(PathMobilePhone, func(d *Details) *string { return &d.MobilePhone })
	str(PathJobTitle, func(d *Details) *string { return &d.JobTitle })
	str(PathDepartment, func(d *Details) *string { return &d.Department })
	str(PathAccountID, func(d *Details) *string { return &d.AccountID })
	add(PathRoles, func(d Details) any { return fmt.Sprint(d.Roles) }, func(d *Details, s Details) { d.Roles = append([]Role(nil), s.Roles...) })
	add(PathEmailOptOut, func(d Details) any { return d.EmailOptOut }, func(d *Details, s Details) { d.EmailOptOut = s.EmailOptOut })
	add(PathDoNotContact, func(d Details) any { return d.DoNotContact }, func(d *Details, s Details) { d.DoNotContact = s.DoNotContact })
	for _, path := range account.AddressPaths(PathMailingAddress) {
		leaf := strings.TrimPrefix(path, PathMailingAddress+".")
		add(path, func(d Details) any { return *account.AddressField(&d.MailingAddress, leaf) },
			func(d *Details, s Details) {
				*account.AddressField(&d.MailingAddress, leaf) = *account.AddressField(&s.MailingAddress, leaf)
			})
	}
	str(PathOwnerID, func(d *Details) *string { return &d.OwnerID })
	add(PathSource, func(d Details) any { return d.Source }, func(d *Details, s Details) { d.Source = s.Source })
	add(PathTags, func(d Details) any { return strings.Join(d.Tags, "\x00") }, func(d *Details, s Details) { d.Tags = append([]string(nil), s.Tags...) })
	str(PathDescription, func(d *Details) *string { return &d.Description })
}

// Paths returns every leaf path of Details that is not a custom field, in canonical order.
func Paths() []string { return append([]string(nil), scalarPaths...) }

// ExpandPath returns the leaf paths a mask path names and whether it is known.
// "custom_fields" expands to nothing here: the caller lists the names in play.
func ExpandPath(path string) ([]string, bool) {
	switch {
	case path == PathMailingAddress:
		return account.AddressPaths(path), true
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
