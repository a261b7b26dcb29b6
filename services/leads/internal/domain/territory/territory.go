// Package territory defines sales territories — rules over a lead's country, region, industry
// and company size — and how a territory's leads get an owner (round-robin among reps or a
// fixed owner).
package territory

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/evcrm/evcrm/libs/apperr"
)

// Mode says how a territory's leads get an owner. Numbering follows crm.leads.v1.AssignmentMode.
type Mode int

// Modes. The zero value is not a valid mode.
const (
	ModeUnspecified Mode = iota
	// ModeRoundRobin gives leads to the territory's reps in turn.
	ModeRoundRobin
	// ModeFixedOwner gives every lead to the territory's owner.
	ModeFixedOwner
)

var modeNames = [...]string{"unspecified", "round_robin", "fixed_owner"}

// String returns the snake_case name of m.
func (m Mode) String() string {
	if m >= 0 && int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// Limits of a territory definition.
const (
	MaxPriority  = 10000
	MaxReps      = 100
	MaxListItems = 500
)

// Territory is one territory of a tenant. Empty criteria lists match anything, so a territory
// with no criteria is a catch-all.
type Territory struct {
	// ID is [A-Za-z0-9_-]{1,64}.
	ID   string
	Name string
	// Priority orders matching: lower numbers are tried first (0…MaxPriority).
	Priority int32
	// Countries are ISO 3166-1 alpha-2 codes, upper case.
	Countries []string
	// Regions and Industries are compared case-insensitively.
	Regions    []string
	Industries []string
	// MinEmployees and MaxEmployees bound the company size, inclusive; 0 means unbounded.
	// A territory with a band never matches a lead whose employee count is unknown.
	MinEmployees int64
	MaxEmployees int64
	Mode         Mode
	// RepIDs take turns in ModeRoundRobin, in this order.
	RepIDs []string
	// OwnerID owns every lead in ModeFixedOwner.
	OwnerID string
}

// Facts are the lead attributes territories match on; empty or zero means unknown.
type Facts struct {
	Country       string
	Region        string
	Industry      string
	EmployeeCount int64
}

var (
	idRE      = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
)

// ValidID reports whether id is a valid territory id.
func ValidID(id string) bool { return idRE.MatchString(id) }

// ValidUserID reports whether id can name a user (owner or rep): 1 to 128 printable
// characters without spaces. Whether the user exists is not the domain's business.
func ValidUserID(id string) bool {
	if id == "" || utf8.RuneCountInString(id) > 128 {
		return false
	}
	for _, r := range id {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// Normalize returns t with criteria trimmed, countries upper-cased and empty entries dropped,
// the form in which it is validated and stored.
func (t Territory) Normalize() Territory {
	clean := func(in []string, upper bool) []string {
		var out []string
		for _, s := range in {
			s = strings.TrimSpace(s)
			if upper {
				s = strings.ToUpper(s)
			}
			if s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	t.Name = strings.TrimSpace(t.Name)
	t.Countries = clean(t.Countries, true)
	t.Regions = clean(t.Regions, false)
	t.Industries = clean(t.Industries, false)
	t.RepIDs = clean(t.RepIDs, false)
	t.OwnerID = strings.TrimSpace(t.OwnerID)
	return t
}

// Validate adds one violation per bad field of t, with paths under prefix (e.g. "territory.").
func (t Territory) Validate(prefix string, v *apperr.Violations) {
	if !ValidID(t.ID) {
		v.Add(prefix+"id", "must match [A-Za-z0-9_-]{1,64}")
	}
	if t.Name == "" || utf8.RuneCountInString(t.Name) > 200 {
		v.Add(prefix+"name", "must be 1 to 200 characters")
	}
	if t.Priority < 0 || t.Priority > MaxPriority {
		v.Add(prefix+"priority", "must be between 0 and %d", MaxPriority)
	}
	listCheck := func(field string, list []string, ok func(string) bool, what string) {
		if len(list) > MaxListItems {
			v.Add(prefix+field, "at most %d entries", MaxListItems)
			return
		}
		for i, s := range list {
			if !ok(s) {
				v.Add(fmt.Sprintf("%s%s[%d]", prefix, field, i), "%s", what)
			}
		}
	}
	listCheck("countries", t.Countries, countryRE.MatchString, "must be an ISO 3166-1 alpha-2 code")
	short := func(s string) bool { return s != "" && utf8.RuneCountInString(s) <= 200 }
	listCheck("regions", t.Regions, short, "must be 1 to 200 characters")
	listCheck("industries", t.Industries, short, "must be 1 to 200 characters")
	if t.MinEmployees < 0 {
		v.Add(prefix+"min_employees", "must not be negative")
	}
	if t.MaxEmployees < 0 || (t.MaxEmployees > 0 && t.MaxEmployees < t.MinEmployees) {
		v.Add(prefix+"max_employees", "must be 0 (unbounded) or at least min_employees")
	}
	switch t.Mode {
	case ModeRoundRobin:
		switch {
		case len(t.RepIDs) == 0:
			v.Add(prefix+"rep_ids", "round-robin needs at least one rep")
		case len(t.RepIDs) > MaxReps:
			v.Add(prefix+"rep_ids", "at most %d reps", MaxReps)
		default:
			seen := map[string]bool{}
			for i, r := range t.RepIDs {
				if !ValidUserID(r) || seen[r] {
					v.Add(fmt.Sprintf("%srep_ids[%d]", prefix, i), "must be a user id, listed once")
				}
				seen[r] = true
			}
		}
		if t.OwnerID != "" {
			v.Add(prefix+"owner_id", "must be empty for round-robin")
		}
	case ModeFixedOwner:
		if !ValidUserID(t.OwnerID) {
			v.Add(prefix+"owner_id", "fixed-owner needs an owner user id")
		}
		if len(t.RepIDs) > 0 {
			v.Add(prefix+"rep_ids", "must be empty for fixed-owner")
		}
	default:
		v.Add(prefix+"assignment_mode", "must be round_robin or fixed_owner")
	}
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// Matches reports whether a lead with facts f belongs to t: every non-empty criterion must hold,
// and an unknown attribute never satisfies a criterion.
func (t Territory) Matches(f Facts) bool {
	if len(t.Countries) > 0 && !containsFold(t.Countries, strings.TrimSpace(f.Country)) {
		return false
	}
	if len(t.Regions) > 0 && !containsFold(t.Regions, strings.TrimSpace(f.Region)) {
		return false
	}
	if len(t.Industries) > 0 && !containsFold(t.Industries, strings.TrimSpace(f.Industry)) {
		return false
	}
	if t.MinEmployees > 0 || t.MaxEmployees > 0 {
		if f.EmployeeCount <= 0 || f.EmployeeCount < t.MinEmployees ||
			(t.MaxEmployees > 0 && f.EmployeeCount > t.MaxEmployees) {
			return false
		}
	}
	return true
}

// Specificity counts the criteria t constrains (country, region, industry, size band): among
// territories of equal priority the more specific one wins.
func (t Territory) Specificity() int {
	n := 0
	for _, c := range []bool{len(t.Countries) > 0, len(t.Regions) > 0, len(t.Industries) > 0,
		t.MinEmployees > 0 || t.MaxEmployees > 0} {
		if c {
			n++
		}
	}
	return n
}

// Match returns the territory a lead belongs to: among the matching territories the one with the
// lowest Priority, then the highest Specificity, then the smallest ID — so the answer never
// depends on the order of ts.
func Match(ts []Territory, f Facts) (Territory, bool) {
	var best Territory
	found := false
	for _, t := range ts {
		if !t.Matches(f) {
			continue
		}
		if !found || before(t, best) {
			best, found = t, true
		}
	}
	return best, found
}

func before(a, b Territory) bool {
	if a.Priority != b.Priority {
		return a.Priority < b.Priority
	}
	if sa, sb := a.Specificity(), b.Specificity(); sa != sb {
		return sa > sb
	}
	return a.ID < b.ID
}

// Sort orders territories the way Match prefers them (for listings and explanations).
func Sort(ts []Territory) {
	sort.SliceStable(ts, func(i, j int) bool { return before(ts[i], ts[j]) })
}

// PickRep returns the owner for the next lead of t: the fixed owner, or in round-robin the rep
// at cursor modulo the number of reps ("" when t has none).
//
// Round-robin needs state shared by every replica of the service, which a pure domain cannot
// hold: the app layer keeps one counter per (tenant, territory) — e.g. a NATS KV entry advanced
// with compare-and-set — takes its next value as cursor and calls PickRep. A cursor taken for a
// command that then fails only skips a rep once, which round-robin tolerates; reps added or
// removed shift the rotation but keep it fair over time.
func PickRep(t Territory, cursor uint64) string {
	switch t.Mode {
	case ModeFixedOwner:
		return t.OwnerID
	case ModeRoundRobin:
		if len(t.RepIDs) == 0 {
			return ""
		}
		return t.RepIDs[cursor%uint64(len(t.RepIDs))]
	}
	return ""
}
