// Package fieldmap maps the rows of an import file onto protobuf records (leadsv1.Lead,
// Contact, Account) by field path, through protoreflect, so one mapper serves every kind of
// record and its values are then checked by the same request mapping as the API's.
//
// A column is mapped to a field path either explicitly (the request's column_mapping) or
// automatically by common header names, compared without case and punctuation ("E-mail",
// "Email Address" → email). The paths are the proto field names joined by dots
// ("billing_address.city", "utm.source", "custom_fields.region_code").
package fieldmap

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Object is the kind of record a file holds.
type Object int

// Objects.
const (
	ObjectLead Object = iota + 1
	ObjectContact
	ObjectAccount
)

// String names the object as reports do.
func (o Object) String() string {
	switch o {
	case ObjectLead:
		return "lead"
	case ObjectContact:
		return "contact"
	case ObjectAccount:
		return "account"
	}
	return "unknown"
}

// CustomPrefix starts the paths of custom fields.
const CustomPrefix = "custom_fields."

// AccountNamePath is a contact column that is no Contact field: the name of the contact's
// account, which the import finds or creates (the vCard ORG property maps to it too). Row
// leaves it alone; the caller reads it.
const AccountNamePath = "account_name"

// Paths returns the importable field paths of an object in their stable order: the export's
// columns (custom fields follow, by name). Output-only fields (ids, versions, timestamps,
// status, score, …) are not importable.
func Paths(o Object) []string {
	switch o {
	case ObjectLead:
		return slices.Clone(leadPaths)
	case ObjectContact:
		return slices.Clone(contactPaths)
	case ObjectAccount:
		return slices.Clone(accountPaths)
	}
	return nil
}

var (
	leadPaths = []string{"first_name", "last_name", "email", "phone", "company", "job_title",
		"website", "country", "region", "city", "industry", "employee_count", "annual_revenue",
		"source", "source_detail", "utm.source", "utm.medium", "utm.campaign", "utm.term",
		"utm.content", "campaign_id", "email_opt_out", "do_not_contact", "tags", "owner_id"}
	contactPaths = []string{"first_name", "last_name", "email", "phone", "mobile_phone",
		"job_title", "department", "account_id", "roles", "email_opt_out", "do_not_contact",
		"mailing_address.street", "mailing_address.city", "mailing_address.region",
		"mailing_address.postal_code", "mailing_address.country", "owner_id", "source", "tags",
		"description"}
	accountPaths = []string{"name", "domain", "website", "industry", "employee_count",
		"annual_revenue", "billing_address.street", "billing_address.city",
		"billing_address.region", "billing_address.postal_code", "billing_address.country",
		"shipping_address.street", "shipping_address.city", "shipping_address.region",
		"shipping_address.postal_code", "shipping_address.country", "phone",
		"parent_account_id", "owner_id", "territory_id", "type", "tags", "description"}
)

// normalize folds a header or alias for comparison: lower case, letters and digits only.
func normalize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// aliases are the common header names of each path, before normalize. Every path also matches
// itself ("utm.source", "UTM Source"). Order matters only for readability.
var aliases = map[Object]map[string][]string{
	ObjectLead: {
		"email":          {"E-mail", "Email Address", "E-mail Address", "Mail", "Work Email", "Business Email", "Primary Email"},
		"first_name":     {"First", "Given Name", "Forename", "First Name"},
		"last_name":      {"Last", "Surname", "Family Name", "Last Name"},
		"phone":          {"Telephone", "Phone Number", "Tel", "Mobile", "Mobile Phone", "Cell", "Cell Phone", "Work Phone", "Business Phone"},
		"company":        {"Company Name", "Account", "Account Name", "Organization", "Organisation", "Org", "Employer"},
		"job_title":      {"Title", "Job", "Position"},
		"website":        {"Web Site", "URL", "Web", "Homepage", "Company Website"},
		"region":         {"State", "Province", "State/Province", "County"},
		"city":           {"Town", "Locality"},
		"employee_count": {"Employees", "Number of Employees", "No. of Employees", "Headcount", "Company Size"},
		"annual_revenue": {"Revenue", "Annual Revenue"},
		"source":         {"Lead Source"},
		"campaign_id":    {"Campaign"},
		"email_opt_out":  {"Opt Out", "Email Opt-Out", "Unsubscribed"},
		"do_not_contact": {"DNC", "Do Not Call"},
		"tags":           {"Labels", "Categories", "Tag"},
		"owner_id":       {"Owner", "Lead Owner"},
	},
	ObjectContact: {
		"email":                       {"E-mail", "Email Address", "E-mail Address", "Mail", "Work Email", "Primary Email"},
		"first_name":                  {"First", "Given Name", "Forename"},
		"last_name":                   {"Last", "Surname", "Family Name"},
		"phone":                       {"Telephone", "Phone Number", "Tel", "Work Phone", "Business Phone", "Office Phone"},
		"mobile_phone":                {"Mobile", "Cell", "Cell Phone", "Mobile Number"},
		"job_title":                   {"Title", "Job", "Position"},
		"department":                  {"Dept"},
		AccountNamePath:               {"Company", "Company Name", "Account", "Account Name", "Organization", "Organisation", "Org"},
		"account_id":                  {"Account ID"},
		"email_opt_out":               {"Opt Out", "Email Opt-Out", "Unsubscribed"},
		"do_not_contact":              {"DNC", "Do Not Call"},
		"mailing_address.street":      {"Street", "Address", "Street Address", "Mailing Street"},
		"mailing_address.city":        {"City", "Town", "Mailing City"},
		"mailing_address.region":      {"State", "Province", "Region", "State/Province", "Mailing State"},
		"mailing_address.postal_code": {"Postal Code", "Zip", "Zip Code", "Postcode", "Mailing Zip"},
		"mailing_address.country":     {"Country", "Mailing Country"},
		"owner_id":                    {"Owner", "Contact Owner"},
		"source":                      {"Lead Source"},
		"tags":                        {"Labels", "Categories", "Tag"},
		"description":                 {"Notes", "Note", "Comments"},
	},
	ObjectAccount: {
		"name":                        {"Account Name", "Company", "Company Name", "Organization", "Organisation", "Org"},
		"domain":                      {"Email Domain", "Company Domain"},
		"website":                     {"Web Site", "URL", "Web", "Homepage"},
		"employee_count":              {"Employees", "Number of Employees", "Headcount", "Company Size"},
		"annual_revenue":              {"Revenue"},
		"phone":                       {"Telephone", "Phone Number", "Tel", "Main Phone"},
		"billing_address.street":      {"Street", "Address", "Billing Street"},
		"billing_address.city":        {"City", "Billing City"},
		"billing_address.region":      {"State", "Province", "Region", "Billing State"},
		"billing_address.postal_code": {"Postal Code", "Zip", "Zip Code", "Postcode", "Billing Zip"},
		"billing_address.country":     {"Country", "Billing Country"},
		"parent_account_id":           {"Parent Account ID", "Parent ID"},
		"owner_id":                    {"Owner", "Account Owner"},
		"type":                        {"Account Type"},
		"tags":                        {"Labels", "Categories", "Tag"},
		"description":                 {"Notes", "Note", "Comments", "About"},
	},
}

// autoIndex maps normalized header names to paths, per object.
var autoIndex = func() map[Object]map[string]string {
	out := map[Object]map[string]string{}
	for _, o := range []Object{ObjectLead, ObjectContact, ObjectAccount} {
		m := map[string]string{}
		for _, p := range Paths(o) {
			m[normalize(p)] = p
		}
		if o == ObjectContact {
			m[normalize(AccountNamePath)] = AccountNamePath
		}
		for p, names := range aliases[o] {
			for _, n := range names {
				if _, taken := m[normalize(n)]; !taken {
					m[normalize(n)] = p
				}
			}
		}
		out[o] = m
	}
	return out
}()

// AutoPath returns the path a header maps to by common name, or "" when none. Headers of the
// form "custom_fields.<name>" and the names of the tenant's custom fields (customNames) map to
// custom fields.
func AutoPath(o Object, header string, customNames []string) string {
	if name, ok := cutCustom(header); ok {
		return CustomPrefix + name
	}
	n := normalize(header)
	if p, ok := autoIndex[o][n]; ok {
		return p
	}
	for _, c := range customNames {
		if normalize(c) == n {
			return CustomPrefix + c
		}
	}
	return ""
}

func cutCustom(header string) (string, bool) {
	h := strings.TrimSpace(header)
	if len(h) > len(CustomPrefix) && strings.EqualFold(h[:len(CustomPrefix)], CustomPrefix) {
		return strings.ToLower(h[len(CustomPrefix):]), true
	}
	return "", false
}

// Column is how one column was mapped.
type Column struct {
	Header string
	// Field is the path; "" when the column is ignored.
	Field string
	// Automatic is true when mapped by common name.
	Automatic bool
}

// MappingError is a bad explicit mapping, naming the header it was given for.
type MappingError struct {
	Header, Path, Reason string
}

func (e *MappingError) Error() string {
	return fmt.Sprintf("column %q → %q: %s", e.Header, e.Path, e.Reason)
}

// Columns decides the mapping of a header row: an explicit mapping (matched to headers
// case-insensitively; "" ignores the column) wins over the automatic one. Two columns mapped to
// one path keep the first and ignore the others (automatic) or are an error (explicit).
// Explicit entries naming a header the file does not have are ignored: one mapping serves
// files with different columns.
func Columns(o Object, header []string, explicit map[string]string, customNames []string) ([]Column, error) {
	byHeader := make(map[string]string, len(explicit))
	for h, p := range explicit {
		byHeader[strings.ToLower(strings.TrimSpace(h))] = strings.TrimSpace(p)
	}
	valid := map[string]bool{}
	if o == ObjectContact {
		valid[AccountNamePath] = true
	}
	for _, p := range Paths(o) {
		valid[p] = true
	}
	cols := make([]Column, len(header))
	used := map[string]int{}
	var errs []error
	// Explicit first, so an automatic column cannot take a path an explicit one names.
	for i, h := range header {
		cols[i].Header = h
		p, ok := byHeader[strings.ToLower(h)]
		if !ok {
			continue
		}
		cols[i].Field = "-" // decided, maybe ignored
		if p == "" {
			continue
		}
		if name, custom := cutCustom(p); custom {
			p = CustomPrefix + name
		} else if !valid[p] {
			errs = append(errs, &MappingError{Header: h, Path: p, Reason: fmt.Sprintf("not an importable %s field", o)})
			continue
		}
		if j, dup := used[p]; dup {
			errs = append(errs, &MappingError{Header: h, Path: p, Reason: fmt.Sprintf("column %q is mapped to it too", header[j])})
			continue
		}
		used[p] = i
		cols[i].Field = p
	}
	if len(errs) > 0 {
		return nil, joinErrs(errs)
	}
	for i, h := range header {
		if cols[i].Field != "" {
			if cols[i].Field == "-" {
				cols[i].Field = ""
			}
			continue
		}
		p := AutoPath(o, h, customNames)
		if p == "" {
			continue
		}
		if _, dup := used[p]; dup {
			continue
		}
		used[p] = i
		cols[i].Field, cols[i].Automatic = p, true
	}
	return cols, nil
}

// MappingErrors are every bad entry of an explicit mapping.
type MappingErrors []*MappingError

func (e MappingErrors) Error() string {
	parts := make([]string, len(e))
	for i, x := range e {
		parts[i] = x.Error()
	}
	return strings.Join(parts, "; ")
}

func joinErrs(errs []error) error {
	out := make(MappingErrors, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.(*MappingError))
	}
	return out
}
