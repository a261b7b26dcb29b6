package contact

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

// Input limits.
const (
	MaxNameLen        = 100
	MaxTextLen        = 200
	MaxDescriptionLen = 5000
)

// Field is the request field that holds the contact in CreateContact and UpdateContact;
// violation paths start with it ("contact.email").
const Field = "contact."

// New is the CreateContact command.
type New struct {
	// ID is the caller's id (conversion and import derive one) or, when empty, the app's.
	ID      string
	Details Details
	// SourceLeadID names the lead a conversion created the contact from.
	SourceLeadID string
}

// Update is the UpdateContact command, field-mask style (see the Path* constants,
// "mailing_address", "custom_fields", "custom_fields.<name>"); an empty value clears the field.
type Update struct {
	Paths   []string
	Details Details
}

// ValidID reports whether id can be a contact id ([A-Za-z0-9_-]{1,64}).
func ValidID(id string) bool { return lead.ValidID(id) }

// Normalize returns d in the form it is validated and stored in: text trimmed, roles and tags
// sorted sets. Bad tags and roles are reported to v.
func Normalize(d Details, v *apperr.Violations) Details {
	d = d.clone()
	for _, s := range []*string{&d.FirstName, &d.LastName, &d.Email, &d.Phone, &d.MobilePhone,
		&d.JobTitle, &d.Department, &d.AccountID, &d.OwnerID, &d.Description} {
		*s = strings.TrimSpace(*s)
	}
	d.MailingAddress = account.NormalizeAddress(d.MailingAddress)
	d.Tags = account.NormalizeTags(d.Tags, Field+PathTags, v)
	var roles []Role
	for i, r := range d.Roles {
		if !r.Valid() {
			v.Add(fmt.Sprintf("%s%s[%d]", Field, PathRoles, i), "must be decision_maker, economic_buyer, influencer, champion, user or other")
			continue
		}
		roles = append(roles, r)
	}
	slices.Sort(roles)
	d.Roles = slices.Compact(roles)
	return d
}

func validate(d Details, p Policy, touched func(string) bool, v *apperr.Violations) {
	text := func(path, s string, maxLen int, multi bool) {
		if touched(path) {
			if msg := account.CheckText(s, maxLen, multi); msg != "" {
				v.Add(Field+path, "%s", msg)
			}
		}
	}
	text(PathFirstName, d.FirstName, MaxNameLen, false)
	text(PathLastName, d.LastName, MaxNameLen, false)
	if (touched(PathFirstName) || touched(PathLastName)) && d.FirstName == "" && d.LastName == "" {
		v.Add(Field+PathLastName, "a contact needs a first or last name")
	}
	if touched(PathEmail) && d.Email != "" && !lead.ValidEmail(d.Email) {
		v.Add(Field+PathEmail, "is not a valid email address")
	}
	for _, ph := range []struct{ path, val string }{{PathPhone, d.Phone}, {PathMobilePhone, d.MobilePhone}} {
		if touched(ph.path) && ph.val != "" && !account.ValidPhone(ph.val) {
			v.Add(Field+ph.path, "is not a valid phone number (7 to 15 digits, optional + and extension)")
		}
	}
	text(PathJobTitle, d.JobTitle, MaxTextLen, false)
	text(PathDepartment, d.Department, MaxTextLen, false)
	if touched(PathAccountID) && d.AccountID != "" && !account.ValidID(d.AccountID) {
		v.Add(Field+PathAccountID, "must match [A-Za-z0-9_-]{1,64}")
	}
	account.ValidateAddress(d.MailingAddress, Field+PathMailingAddress+".", func(leaf string) bool { return touched(PathMailingAddress + "." + leaf) }, v)
	if touched(PathOwnerID) && d.OwnerID != "" && !territory.ValidUserID(d.OwnerID) {
		v.Add(Field+PathOwnerID, "must be a user id (1 to 128 printable characters, no spaces)")
	}
	if touched(PathSource) && d.Source != lead.SourceUnspecified && !d.Source.Valid() {
		v.Add(Field+PathSource, "must be one of web_form, event, referral, advertisement, social, email, partner, import, other")
	}
	text(PathDescription, d.Description, MaxDescriptionLen, true)
	account.ValidateCustom(d.CustomFields, p.CustomFields, Field+customPrefix, touched, v)
}

// Create decides CreateContact. Every field is validated (one violation per bad field). The
// linked account's existence and the email's uniqueness are the app's to check.
func Create(c Contact, cmd New, p Policy, now time.Time) ([]Event, error) {
	if c.Exists() {
		return nil, apperr.Exists("contact already exists", c.ID)
	}
	var v apperr.Violations
	if !ValidID(cmd.ID) {
		v.Add(Field+"id", "must match [A-Za-z0-9_-]{1,64}")
	}
	if cmd.SourceLeadID != "" && !ValidID(cmd.SourceLeadID) {
		v.Add(Field+"source_lead_id", "must match [A-Za-z0-9_-]{1,64}")
	}
	d := Normalize(cmd.Details, &v)
	validate(d, p, func(string) bool { return true }, &v)
	if err := v.Err("invalid contact"); err != nil {
		return nil, err
	}
	n := Contact{ID: cmd.ID, Details: d, SourceLeadID: cmd.SourceLeadID, CreatedAt: now, UpdatedAt: now}
	return []Event{ContactCreated{Contact: n, At: now}}, nil
}

// UpdateDetails decides UpdateContact. Only the changed fields are validated; no change gives
// no events.
func UpdateDetails(c Contact, cmd Update, p Policy, now time.Time) ([]Event, error) {
	if !c.Exists() {
		return nil, apperr.NotFoundf("contact", c.ID)
	}
	if c.Erased {
		return nil, apperr.Precondition(ReasonErased, "contact %s was erased", c.ID)
	}
	var v apperr.Violations
	src := Normalize(Pick(cmd.Details, maskLeaves(cmd)), &v)
	var leaves []string
	for i, path := range cmd.Paths {
		ls, ok := ExpandPath(path)
		switch {
		case !ok:
			v.Add(fmt.Sprintf("update_mask.paths[%d]", i), "unknown field %q", path)
		case path == PathCustomFields:
			leaves = append(leaves, customLeaves(c.Details, src)...)
		default:
			leaves = append(leaves, ls...)
		}
	}
	if len(cmd.Paths) == 0 {
		v.Add("update_mask.paths", "name at least one field to update")
	}
	leaves = sortLeaves(leaves)
	next := ApplyLeaves(c.Details, src, leaves)
	touched := map[string]bool{}
	for _, l := range leaves {
		touched[l] = true
	}
	validate(next, p, func(path string) bool { return touched[path] }, &v)
	if err := v.Err("invalid contact update"); err != nil {
		return nil, err
	}
	var changed []string
	for _, path := range leaves {
		if !leafEqual(c.Details, next, path) {
			changed = append(changed, path)
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	return []Event{ContactUpdated{Changed: changed, Before: Pick(c.Details, changed), After: Pick(next, changed), At: now}}, nil
}

func maskLeaves(cmd Update) []string {
	var out []string
	for _, path := range cmd.Paths {
		if path == PathCustomFields {
			out = append(out, customLeaves(cmd.Details)...)
			continue
		}
		if ls, ok := ExpandPath(path); ok {
			out = append(out, ls...)
		}
	}
	return out
}
