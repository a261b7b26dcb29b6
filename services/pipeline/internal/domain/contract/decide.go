package contract

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/input"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
)

// Machine-readable reasons of FailedPrecondition errors.
const (
	// ReasonOpportunityNotWon: contracts are for won opportunities.
	ReasonOpportunityNotWon = "OPPORTUNITY_NOT_WON"
	// ReasonIllegalStatus: the contract's status forbids the operation.
	ReasonIllegalStatus = "ILLEGAL_CONTRACT_STATUS"
	// ReasonNotFound is the Reason of the NotFound error for a contract that does not exist.
	ReasonNotFound = "CONTRACT_NOT_FOUND"
)

// Input limits.
const (
	MaxTermsLen  = 20000
	MaxReasonLen = 2000
)

// Field-mask paths of Details, in canonical order.
const (
	PathOwnerID     = "owner_id"
	PathStartDate   = "start_date"
	PathEndDate     = "end_date"
	PathValue       = "value"
	PathTerms       = "terms"
	PathRenewalDate = "renewal_date"
	PathAutoRenew   = "auto_renew"
)

var paths = []string{PathOwnerID, PathStartDate, PathEndDate, PathValue, PathTerms, PathRenewalDate, PathAutoRenew}

// Paths returns the field-mask paths of Details in canonical order.
func Paths() []string { return slices.Clone(paths) }

func errNotFound() error {
	return &apperr.Error{Kind: apperr.NotFound, Reason: ReasonNotFound, Message: "contract not found"}
}

func illegal(c Contract, what string) error {
	return apperr.Precondition(ReasonIllegalStatus, "contract is %s: it cannot be %s", c.Status, what)
}

// NewContract is the CreateContract command.
type NewContract struct {
	// ID is chosen by the caller (a UUIDv7); [A-Za-z0-9_-]{1,64}.
	ID            string
	OpportunityID string
	AccountID     string
	// Details: a zero RenewalDate means DefaultRenewalDate(StartDate, EndDate).
	Details Details
}

// Create decides CreateContract. opportunityStatus is the status of the opportunity the
// contract is for, which the app loads: it must be won (FailedPrecondition otherwise). The
// contract starts as a draft.
func Create(c Contract, cmd NewContract, opportunityStatus opportunity.Status, now time.Time) ([]Event, error) {
	if c.Exists() {
		return nil, apperr.Exists("contract already exists", c.ID)
	}
	d := normalize(cmd.Details)
	if d.RenewalDate.IsZero() && d.StartDate.Valid() && d.EndDate.Valid() {
		d.RenewalDate = DefaultRenewalDate(d.StartDate, d.EndDate)
	}
	var v apperr.Violations
	if !input.ValidID(cmd.ID) {
		v.Add("id", input.IDMessage)
	}
	if !input.ValidID(cmd.OpportunityID) {
		v.Add("opportunity_id", input.IDMessage)
	}
	input.OptionalID("account_id", cmd.AccountID, &v)
	validate(d, d.StartDate, func(string) bool { return true }, &v)
	if err := v.Err("invalid contract"); err != nil {
		return nil, err
	}
	if opportunityStatus != opportunity.StatusWon {
		return nil, apperr.Precondition(ReasonOpportunityNotWon, "opportunity is %s: contracts are for won opportunities", opportunityStatus)
	}
	n := Contract{ID: cmd.ID, OpportunityID: cmd.OpportunityID, AccountID: cmd.AccountID, Details: d,
		TermStart: d.StartDate, Status: StatusDraft, CreatedAt: now, UpdatedAt: now}
	return []Event{ContractCreated{Contract: n, At: now}}, nil
}

// Activate decides putting a draft contract in force. An active contract yields no events; a
// draft whose end date passed cannot be activated.
func Activate(c Contract, now time.Time) ([]Event, error) {
	if !c.Exists() {
		return nil, errNotFound()
	}
	switch c.Status {
	case StatusActive:
		return nil, nil
	case StatusDraft:
	default:
		return nil, illegal(c, "activated")
	}
	if today := civil.DateOf(now); c.EndDate.Before(today) {
		return nil, apperr.Precondition(ReasonIllegalStatus, "contract ended on %s: it cannot be activated", c.EndDate)
	}
	return []Event{ContractActivated{At: now}}, nil
}

// Update is the UpdateContract command: Paths name the fields to change (Path* constants);
// their values come from Details.
type Update struct {
	Paths   []string
	Details Details
}

// UpdateDetails decides UpdateContract on a draft or active contract. The contract after the
// change must be valid as a whole (start ≤ end, renewal date within the term). When the end
// date changes and the renewal date is not named, a renewal date that was the default follows
// the new end date. A value without currency keeps the contract's currency. No change yields
// no events.
func UpdateDetails(c Contract, cmd Update, now time.Time) ([]Event, error) {
	if !c.Exists() {
		return nil, errNotFound()
	}
	if c.Status != StatusDraft && c.Status != StatusActive {
		return nil, illegal(c, "changed")
	}
	var v apperr.Violations
	touched := map[string]bool{}
	for i, p := range cmd.Paths {
		if slices.Contains(paths, p) {
			touched[p] = true
		} else {
			v.Add(fmt.Sprintf("update_mask.paths[%d]", i), "unknown field %q", p)
		}
	}
	if len(cmd.Paths) == 0 {
		v.Add("update_mask.paths", "name at least one field to update")
	}
	src := normalize(cmd.Details)
	if src.Value.Currency == "" {
		src.Value.Currency = c.Value.Currency
	}
	next := c.Details
	for _, p := range paths {
		if touched[p] {
			setField(&next, src, p)
		}
	}
	// Until the first renewal the current term starts with the contract.
	termStart := c.TermStart
	if termStart == c.StartDate {
		termStart = next.StartDate
	}
	if (touched[PathEndDate] || touched[PathStartDate]) && !touched[PathRenewalDate] &&
		c.RenewalDate == DefaultRenewalDate(c.TermStart, c.EndDate) && next.StartDate.Valid() && next.EndDate.Valid() {
		next.RenewalDate = DefaultRenewalDate(termStart, next.EndDate)
		touched[PathRenewalDate] = true
	}
	validate(next, termStart, func(p string) bool { return touched[p] }, &v)
	if err := v.Err("invalid contract update"); err != nil {
		return nil, err
	}
	var changed []string
	for _, p := range paths {
		if touched[p] && !fieldEqual(c.Details, next, p) {
			changed = append(changed, p)
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	var before, after Details
	for _, p := range changed {
		setField(&before, c.Details, p)
		setField(&after, next, p)
	}
	return []Event{ContractUpdated{Changed: changed, Before: before, After: after, At: now}}, nil
}

// Termination is the TerminateContract command.
type Termination struct {
	// Reason is required.
	Reason string
	// EffectiveDate is the last day the contract applies; today when zero. It cannot be after
	// the end date (the contract ends then anyway).
	EffectiveDate civil.Date
}

// Terminate decides ending a draft or active contract early.
func Terminate(c Contract, cmd Termination, now time.Time) ([]Event, error) {
	if !c.Exists() {
		return nil, errNotFound()
	}
	cmd.Reason = strings.TrimSpace(cmd.Reason)
	eff := cmd.EffectiveDate
	if eff.IsZero() {
		eff = civil.DateOf(now)
	}
	var v apperr.Violations
	if cmd.Reason == "" {
		v.Add("reason", "is required")
	} else {
		input.Text("reason", cmd.Reason, MaxReasonLen, true, &v)
	}
	switch {
	case !eff.Valid():
		v.Add("effective_date", "is not a calendar date")
	case eff.After(c.EndDate):
		v.Add("effective_date", "must not be after the end date %s", c.EndDate)
	}
	if err := v.Err("invalid termination"); err != nil {
		return nil, err
	}
	if c.Status != StatusDraft && c.Status != StatusActive {
		return nil, illegal(c, "terminated")
	}
	return []Event{ContractTerminated{Reason: cmd.Reason, EffectiveDate: eff, At: now}}, nil
}

// Expire decides the expiry sweep for one contract: an active contract whose end date passed
// expires — or, when it auto-renews, is renewed for as many terms as it takes to cover today
// (see the package doc). Anything else yields no events, so the sweep can call it on any
// contract.
func Expire(c Contract, now time.Time) ([]Event, error) {
	if !c.Exists() {
		return nil, errNotFound()
	}
	today := civil.DateOf(now)
	if c.Status != StatusActive || !c.EndDate.Before(today) {
		return nil, nil
	}
	if !c.AutoRenew {
		return []Event{ContractExpired{At: now}}, nil
	}
	start, end, renewal := c.TermStart, c.EndDate, c.RenewalDate
	for end.Before(today) {
		next := nextTermEnd(start, end)
		shift := next.DaysSince(end)
		start, end, renewal = end.AddDays(1), next, renewal.AddDays(shift)
	}
	return []Event{ContractRenewed{NewEndDate: end, NewRenewalDate: renewal, NewValue: c.Value, Automatic: true, At: now}}, nil
}

// Renewal is the RenewContract command.
type Renewal struct {
	// NewEndDate is after the current end date.
	NewEndDate civil.Date
	// NewRenewalDate defaults to DefaultRenewalDate(day after the old end date, NewEndDate).
	NewRenewalDate civil.Date
	// NewValue defaults to the current value; an empty currency is the current one, and the
	// currency cannot change.
	NewValue *money.Money
}

// Renew decides renewing an active contract, or an expired one (a late renewal makes it active
// again). The new term starts the day after the current end date.
func Renew(c Contract, cmd Renewal, now time.Time) ([]Event, error) {
	if !c.Exists() {
		return nil, errNotFound()
	}
	if c.Status != StatusActive && c.Status != StatusExpired {
		return nil, illegal(c, "renewed")
	}
	termStart := c.EndDate.AddDays(1)
	var v apperr.Violations
	switch {
	case !cmd.NewEndDate.Valid():
		v.Add("new_end_date", "is required: a date as YYYY-MM-DD")
	case !cmd.NewEndDate.After(c.EndDate):
		v.Add("new_end_date", "must be after the current end date %s", c.EndDate)
	}
	renewal := cmd.NewRenewalDate
	if renewal.IsZero() && cmd.NewEndDate.Valid() {
		renewal = DefaultRenewalDate(termStart, cmd.NewEndDate)
	}
	switch {
	case !renewal.Valid():
		v.Add("new_renewal_date", "is not a calendar date")
	case renewal.Before(termStart) || renewal.After(cmd.NewEndDate):
		v.Add("new_renewal_date", "must lie within the new term %s…%s", termStart, cmd.NewEndDate)
	}
	value := c.Value
	if cmd.NewValue != nil {
		value = *cmd.NewValue
		if value.Currency = strings.ToUpper(strings.TrimSpace(value.Currency)); value.Currency == "" {
			value.Currency = c.Value.Currency
		}
		if value.Currency != c.Value.Currency {
			v.Add("new_value", "must be in %s, the contract's currency", c.Value.Currency)
		} else {
			checkValue("new_value", value, &v)
		}
	}
	if err := v.Err("invalid renewal"); err != nil {
		return nil, err
	}
	return []Event{ContractRenewed{NewEndDate: cmd.NewEndDate, NewRenewalDate: renewal, NewValue: value, At: now}}, nil
}

// normalize trims text and upper-cases the currency.
func normalize(d Details) Details {
	d.OwnerID = strings.TrimSpace(d.OwnerID)
	d.Terms = strings.TrimSpace(d.Terms)
	d.Value.Currency = strings.ToUpper(strings.TrimSpace(d.Value.Currency))
	return d
}

// validate adds one violation per bad touched field of d; the dates are checked together when
// any of them is touched. termStart is the first day of the current term.
func validate(d Details, termStart civil.Date, touched func(string) bool, v *apperr.Violations) {
	if touched(PathOwnerID) && !input.ValidUserID(d.OwnerID) {
		v.Add(PathOwnerID, input.UserIDMessage)
	}
	if touched(PathValue) {
		checkValue(PathValue, d.Value, v)
	}
	if touched(PathTerms) {
		input.Text(PathTerms, d.Terms, MaxTermsLen, true, v)
	}
	if !touched(PathStartDate) && !touched(PathEndDate) && !touched(PathRenewalDate) {
		return
	}
	startOK, endOK := d.StartDate.Valid(), d.EndDate.Valid()
	if !startOK {
		v.Add(PathStartDate, "is required: a date as YYYY-MM-DD")
	}
	switch {
	case !endOK:
		v.Add(PathEndDate, "is required: a date as YYYY-MM-DD")
	case startOK && d.EndDate.Before(d.StartDate):
		v.Add(PathEndDate, "must not be before the start date %s", d.StartDate)
		endOK = false
	case startOK && d.EndDate.Before(termStart):
		v.Add(PathEndDate, "must not be before the current term's start %s", termStart)
		endOK = false
	}
	// The renewal date is judged against a consistent term only (it is derived from it by
	// default, so a second violation would repeat the first).
	switch {
	case !startOK || !endOK:
	case !d.RenewalDate.Valid():
		v.Add(PathRenewalDate, "is not a calendar date")
	case d.RenewalDate.Before(d.StartDate) || d.RenewalDate.After(d.EndDate):
		v.Add(PathRenewalDate, "must lie within %s…%s", d.StartDate, d.EndDate)
	}
}

func checkValue(field string, m money.Money, v *apperr.Violations) {
	switch {
	case !money.ValidCurrency(m.Currency):
		v.Add(field, "must have an ISO 4217 currency such as EUR")
	case m.IsNegative():
		v.Add(field, "must not be negative")
	case !m.Rounded():
		v.Add(field, "at most %d decimal places for %s", money.MinorUnits(m.Currency), m.Currency)
	case !m.Fits():
		v.Add(field, "is too large")
	}
}

// setField copies path from src to dst.
func setField(dst *Details, src Details, path string) {
	switch path {
	case PathOwnerID:
		dst.OwnerID = src.OwnerID
	case PathStartDate:
		dst.StartDate = src.StartDate
	case PathEndDate:
		dst.EndDate = src.EndDate
	case PathValue:
		dst.Value = src.Value
	case PathTerms:
		dst.Terms = src.Terms
	case PathRenewalDate:
		dst.RenewalDate = src.RenewalDate
	case PathAutoRenew:
		dst.AutoRenew = src.AutoRenew
	}
}

func fieldEqual(a, b Details, path string) bool {
	var x, y Details
	setField(&x, a, path)
	setField(&y, b, path)
	return x.OwnerID == y.OwnerID && x.StartDate == y.StartDate && x.EndDate == y.EndDate &&
		x.Value.Equal(y.Value) && x.Terms == y.Terms && x.RenewalDate == y.RenewalDate && x.AutoRenew == y.AutoRenew
}
