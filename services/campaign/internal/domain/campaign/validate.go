package campaign

import (
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/money"
)

// Limits of a campaign's fields.
const (
	MaxNameLength        = 255
	MaxDescriptionLength = 10_000
	MaxStatuses          = 32
	// MaxIDLength bounds referenced ids (owner, parent, segment).
	MaxIDLength = 64
)

var (
	statusNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	idRE         = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	hundred      = decimal.NewFromInt(100)
)

// ValidID reports whether id can be an aggregate id (a subject token).
func ValidID(id string) bool { return idRE.MatchString(id) }

// ValidDate reports whether s is a YYYY-MM-DD calendar date.
func ValidDate(s string) bool {
	t, err := time.Parse(time.DateOnly, s)
	return err == nil && t.Format(time.DateOnly) == s
}

// validateDetails checks d; only the paths touched counts (all when touched is nil), so an
// update does not fail on an unrelated field that was valid under older rules. Paths are the
// Campaign message's field names.
func validateDetails(d Details, touched func(string) bool, v *apperr.Violations) {
	t := func(p string) bool { return touched == nil || touched(p) }
	if t(PathName) {
		switch n := utf8.RuneCountInString(d.Name); {
		case n == 0:
			v.Add(PathName, "required")
		case n > MaxNameLength || !utf8.ValidString(d.Name):
			v.Add(PathName, "at most %d characters of valid UTF-8", MaxNameLength)
		}
	}
	if t(PathDescription) && (len(d.Description) > MaxDescriptionLength || !utf8.ValidString(d.Description)) {
		v.Add(PathDescription, "at most %d bytes of valid UTF-8", MaxDescriptionLength)
	}
	if t(PathChannel) && !d.Channel.Valid() {
		v.Add(PathChannel, "required: one of the CampaignChannel values")
	}
	startOK, endOK := true, true
	if t(PathStartDate) && d.StartDate != "" && !ValidDate(d.StartDate) {
		v.Add(PathStartDate, "want YYYY-MM-DD")
		startOK = false
	}
	if t(PathEndDate) && d.EndDate != "" && !ValidDate(d.EndDate) {
		v.Add(PathEndDate, "want YYYY-MM-DD")
		endOK = false
	}
	if (t(PathStartDate) || t(PathEndDate)) && startOK && endOK && d.StartDate != "" && d.EndDate != "" && d.EndDate < d.StartDate {
		v.Add(PathEndDate, "end date %s is before start date %s", d.EndDate, d.StartDate)
	}
	if t(PathBudget) {
		validateMoney(PathBudget, d.Budget, v)
	}
	if t(PathExpectedRevenue) {
		validateMoney(PathExpectedRevenue, d.ExpectedRevenue, v)
	}
	if (t(PathBudget) || t(PathExpectedRevenue)) && d.Budget.Currency != "" && d.ExpectedRevenue.Currency != "" &&
		d.Budget.Currency != d.ExpectedRevenue.Currency {
		v.Add(PathExpectedRevenue, "currency %s differs from the budget's %s", d.ExpectedRevenue.Currency, d.Budget.Currency)
	}
	if t(PathExpectedResponsePercent) && d.ExpectedResponsePercent != "" {
		p, err := decimal.NewFromString(d.ExpectedResponsePercent)
		if err != nil || p.Sign() < 0 || p.GreaterThan(hundred) {
			v.Add(PathExpectedResponsePercent+".value", "a decimal from 0 to 100")
		}
	}
	for _, p := range []struct {
		path, id string
	}{{PathParentCampaignID, d.ParentCampaignID}, {PathOwnerID, d.OwnerID}, {PathTargetSegmentID, d.TargetSegmentID}} {
		if t(p.path) && p.id != "" && !ValidID(p.id) {
			v.Add(p.path, "1 to %d characters of [A-Za-z0-9_-]", MaxIDLength)
		}
	}
	if t(PathMemberStatuses) {
		validateStatuses(d.MemberStatuses, v)
	}
}

func validateMoney(path string, m money.Money, v *apperr.Violations) {
	if m.IsZero() {
		return
	}
	if !money.ValidCurrency(m.Currency) {
		v.Add(path+".currency_code", "an ISO 4217 code such as EUR")
	}
	if m.IsNegative() {
		v.Add(path, "must not be negative")
	}
}

// validateStatuses checks a member status set: names unique and well formed, kinds known,
// exactly one SENT and one UNSUBSCRIBED.
func validateStatuses(ss []MemberStatus, v *apperr.Violations) {
	if len(ss) > MaxStatuses {
		v.Add(PathMemberStatuses, "at most %d statuses", MaxStatuses)
		return
	}
	seen := map[string]int{}
	kinds := map[Kind]int{}
	for i, s := range ss {
		at := fmt.Sprintf("%s[%d]", PathMemberStatuses, i)
		if !statusNameRE.MatchString(s.Name) {
			v.Add(at+".name", "want [a-z][a-z0-9_]{0,31}")
		} else if j, dup := seen[s.Name]; dup {
			v.Add(at+".name", "%q is already status %d", s.Name, j)
		} else {
			seen[s.Name] = i
		}
		if !s.Kind.Valid() {
			v.Add(at+".kind", "required: one of the ResponseKind values")
		}
		kinds[s.Kind]++
	}
	for _, k := range []struct {
		kind Kind
		name string
	}{{KindSent, "SENT"}, {KindUnsubscribed, "UNSUBSCRIBED"}} {
		if kinds[k.kind] != 1 {
			v.Add(PathMemberStatuses, "exactly one status of kind %s is required, found %d", k.name, kinds[k.kind])
		}
	}
}
