package opportunity

import (
	"fmt"
	"strings"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/input"
)

// Input limits.
const (
	MaxNameLen        = 200
	MaxNextStepLen    = 500
	MaxDescriptionLen = 10000
	MaxNoteLen        = 2000
	MaxCompetitors    = 20
	MaxCompetitorLen  = 200
	MaxContactRoles   = 50
	// MaxQuotes bounds the quotes of one opportunity, MaxQuoteVersions the versions of one
	// quote: every version stays in the aggregate.
	MaxQuotes        = 100
	MaxQuoteVersions = 100
)

// normalizeDetails trims the text fields, normalises tags and de-duplicates competitors; the
// maps and slices are copied. Bad tags and competitors are reported to v when their path is
// touched.
func normalizeDetails(d Details, touched func(string) bool, v *apperr.Violations) Details {
	d = d.clone()
	for _, s := range []*string{&d.Name, &d.AccountID, &d.PrimaryContactID, &d.NextStep, &d.Description, &d.PrimaryCampaignID} {
		*s = strings.TrimSpace(*s)
	}
	var ignored apperr.Violations
	tv := &ignored
	if touched(PathTags) {
		tv = v
	}
	d.Tags = input.Tags(d.Tags, PathTags, tv)
	cv := &ignored
	if touched(PathCompetitors) {
		cv = v
	}
	d.Competitors = normalizeCompetitors(d.Competitors, cv)
	return d
}

// normalizeCompetitors trims names and drops repeats (ignoring case), keeping the first spelling
// and the order given.
func normalizeCompetitors(names []string, v *apperr.Violations) []string {
	var out []string
	seen := map[string]bool{}
	for i, n := range names {
		n = strings.TrimSpace(n)
		if msg := input.CheckText(n, MaxCompetitorLen, false); n == "" || msg != "" {
			if msg == "" {
				msg = "must not be empty"
			}
			v.Add(fmt.Sprintf("%s[%d]", PathCompetitors, i), "%s", msg)
			continue
		}
		if key := strings.ToLower(n); !seen[key] {
			seen[key] = true
			out = append(out, n)
		}
	}
	if len(out) > MaxCompetitors {
		v.Add(PathCompetitors, "at most %d competitors", MaxCompetitors)
	}
	return out
}

// validateDetails adds one violation per bad field of d among the leaf paths for which touched
// returns true.
func validateDetails(d Details, p Policy, touched func(string) bool, v *apperr.Violations) {
	if touched(PathName) {
		if d.Name == "" {
			v.Add(PathName, "is required")
		} else {
			input.Text(PathName, d.Name, MaxNameLen, false, v)
		}
	}
	for _, f := range []struct{ path, id string }{{PathAccountID, d.AccountID},
		{PathPrimaryContactID, d.PrimaryContactID}, {PathPrimaryCampaignID, d.PrimaryCampaignID}} {
		if touched(f.path) {
			input.OptionalID(f.path, f.id, v)
		}
	}
	if touched(PathNextStep) {
		input.Text(PathNextStep, d.NextStep, MaxNextStepLen, false, v)
	}
	if touched(PathDescription) {
		input.Text(PathDescription, d.Description, MaxDescriptionLen, true, v)
	}
	if touched(PathSource) && !d.Source.Valid() {
		v.Add(PathSource, "must be one of web_form, event, referral, advertisement, social, email, partner, import, other")
	}
	set := map[string]customfield.Value{}
	for name, val := range d.CustomFields {
		if touched(customPrefix + name) {
			set[name] = val
		}
	}
	customfield.ValidateValues(p.CustomFields, set, customPrefix, v)
	for _, name := range customfield.SortedNames(p.CustomFields) {
		if _, has := d.CustomFields[name]; p.CustomFields[name].Required && !has && touched(customPrefix+name) {
			v.Add(customPrefix+name, "is required")
		}
	}
}

// checkAmount normalises an amount for o (an empty currency is the opportunity's, or def for a
// new one) and adds a violation when it is negative, not in minor units, or — when the
// opportunity has quotes — in another currency than theirs.
func checkAmount(field string, m money.Money, def string, o Opportunity, v *apperr.Violations) money.Money {
	m.Currency = strings.ToUpper(strings.TrimSpace(m.Currency))
	if m.Currency == "" {
		m.Currency = def
	}
	switch {
	case !money.ValidCurrency(m.Currency):
		v.Add(field, "must have an ISO 4217 currency such as EUR")
	case m.IsNegative():
		v.Add(field, "must not be negative")
	case !m.Rounded():
		v.Add(field, "at most %d decimal places for %s", money.MinorUnits(m.Currency), m.Currency)
	case !m.Fits():
		v.Add(field, "is too large")
	case len(o.Quotes) > 0 && m.Currency != o.Amount.Currency:
		v.Add(field, "must be in %s: the opportunity has quotes in %s", o.Amount.Currency, o.Amount.Currency)
	}
	return m
}

// checkCloseDate adds a violation when d is not a date or lies more than MaxCloseDatePastDays
// before today.
func checkCloseDate(field string, d civil.Date, p Policy, today civil.Date, v *apperr.Violations) {
	earliest := today.AddDays(-int(p.MaxCloseDatePastDays))
	switch {
	case d.IsZero():
		v.Add(field, "is required")
	case !d.Valid():
		v.Add(field, "is not a calendar date")
	case d.Before(earliest):
		if p.MaxCloseDatePastDays == 0 {
			v.Add(field, "must not be before today (%s)", today)
		} else {
			v.Add(field, "must not be before %s (%d days ago)", earliest, p.MaxCloseDatePastDays)
		}
	}
}

// checkUser adds a violation when id is not a user id (required).
func checkUser(field, id string, v *apperr.Violations) {
	if !input.ValidUserID(id) {
		v.Add(field, input.UserIDMessage)
	}
}

// normalizeRoles validates contact roles: valid ids and roles, each contact once, at most one
// primary.
func normalizeRoles(roles []ContactRole, field string, v *apperr.Violations) []ContactRole {
	if len(roles) > MaxContactRoles {
		v.Add(field, "at most %d contact roles", MaxContactRoles)
	}
	out := make([]ContactRole, 0, len(roles))
	seen := map[string]bool{}
	primary := false
	for i, r := range roles {
		at := fmt.Sprintf("%s[%d].", field, i)
		r.ContactID = strings.TrimSpace(r.ContactID)
		switch {
		case !input.ValidID(r.ContactID):
			v.Add(at+"contact_id", input.IDMessage)
		case seen[r.ContactID]:
			v.Add(at+"contact_id", "contact %q has a role already", r.ContactID)
		}
		seen[r.ContactID] = true
		if !r.Role.Valid() {
			v.Add(at+"role", "must be one of decision_maker, economic_buyer, influencer, champion, user, other")
		}
		if r.Primary {
			if primary {
				v.Add(at+"primary", "only one contact role can be primary")
			}
			primary = true
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
