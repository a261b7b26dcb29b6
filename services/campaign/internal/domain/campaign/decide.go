package campaign

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/money"
)

// Create decides CreateCampaign: the campaign starts PLANNED with the default status set when
// it names none. Field violations name the Campaign message's fields.
func Create(c Campaign, id string, d Details, now time.Time) ([]Event, error) {
	if c.Exists() {
		return nil, apperr.Exists("campaign exists", c.ID)
	}
	if len(d.MemberStatuses) == 0 {
		d.MemberStatuses = DefaultStatuses()
	}
	var v apperr.Violations
	validateDetails(d, nil, &v)
	if d.ParentCampaignID != "" && d.ParentCampaignID == id {
		v.Add(PathParentCampaignID, "a campaign cannot be its own parent")
	}
	if err := v.Err("invalid campaign"); err != nil {
		return nil, err
	}
	n := Campaign{ID: id, Details: d.clone(), Status: StatusPlanned, CreatedAt: now, UpdatedAt: now}
	if cur := n.Currency(); cur != "" {
		n.ActualCost = money.Zero(cur)
	}
	return []Event{CampaignCreated{Campaign: n, At: now}}, nil
}

// Update is the UpdateCampaign command: Paths name the fields to change, their values come
// from Details; a named field that is empty in Details is cleared (name, channel and member
// statuses are required).
type Update struct {
	Paths   []string
	Details Details
}

// UpdateDetails decides UpdateCampaign. Unknown paths are violations of
// "update_mask.paths[i]"; nothing changing yields no events. Ancestry (no cycles through the
// parent) is the app's check, which walks the parents.
func UpdateDetails(c Campaign, cmd Update, now time.Time) ([]Event, error) {
	if !c.Exists() {
		return nil, apperr.NotFoundf("campaign", c.ID)
	}
	var v apperr.Violations
	var leaves []string
	for i, p := range cmd.Paths {
		if strings.HasPrefix(p, "custom_fields") {
			v.Add(pathAt(i), "unknown field %q", p)
			continue
		}
		ls, ok := fields.Expand(p)
		if !ok {
			v.Add(pathAt(i), "unknown field %q", p)
			continue
		}
		leaves = append(leaves, ls...)
	}
	if len(cmd.Paths) == 0 {
		v.Add("update_mask.paths", "name at least one field to update")
	}
	leaves = fields.Sort(leaves)
	touched := map[string]bool{}
	for _, p := range leaves {
		touched[p] = true
	}
	next := c.Details.clone()
	fields.Copy(&next, cmd.Details.clone(), leaves...)
	validateDetails(next, func(p string) bool { return touched[p] }, &v)
	if touched[PathParentCampaignID] && next.ParentCampaignID == c.ID {
		v.Add(PathParentCampaignID, "a campaign cannot be its own parent")
	}
	if touched[PathBudget] || touched[PathExpectedRevenue] {
		if cur := c.ActualCost.Currency; cur != "" && !c.ActualCost.Amount.IsZero() {
			for _, m := range []struct {
				path string
				m    money.Money
			}{{PathBudget, next.Budget}, {PathExpectedRevenue, next.ExpectedRevenue}} {
				if touched[m.path] && m.m.Currency != "" && m.m.Currency != cur {
					v.Add(m.path+".currency_code", "cost was recorded in %s", cur)
				}
			}
		}
	}
	if err := v.Err("invalid campaign update"); err != nil {
		return nil, err
	}
	var changed []string
	for _, p := range leaves {
		if !fields.Equal(c.Details, next, p) {
			changed = append(changed, p)
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	after := c.clone()
	after.Details = next
	after.UpdatedAt = now
	after.Version = c.Version + 1
	return []Event{CampaignUpdated{Changed: changed, Before: c.clone(), After: after, At: now}}, nil
}

func pathAt(i int) string { return "update_mask.paths[" + strconv.Itoa(i) + "]" }

// moves lists the legal lifecycle moves.
var moves = map[Status][]Status{
	StatusPlanned: {StatusActive, StatusAborted},
	StatusActive:  {StatusPaused, StatusCompleted, StatusAborted},
	StatusPaused:  {StatusActive, StatusCompleted, StatusAborted},
}

// CanMove reports whether a campaign may go from one status to another.
func CanMove(from, to Status) bool { return slices.Contains(moves[from], to) }

// ChangeStatus decides ChangeCampaignStatus. Moving to the current status changes nothing; an
// illegal move is FailedPrecondition naming the current status.
func ChangeStatus(c Campaign, to Status, note string, now time.Time) ([]Event, error) {
	if !c.Exists() {
		return nil, apperr.NotFoundf("campaign", c.ID)
	}
	if !to.Valid() {
		return nil, apperr.InvalidFields("invalid status change", apperr.FieldViolation{Field: "status", Description: "required: one of the CampaignStatus values"})
	}
	if len(note) > MaxDescriptionLength {
		return nil, apperr.InvalidFields("invalid status change", apperr.FieldViolation{Field: "note", Description: "too long"})
	}
	if c.Status == to {
		return nil, nil
	}
	if !CanMove(c.Status, to) {
		return nil, apperr.Precondition("ILLEGAL_STATUS_CHANGE", "campaign is %s and cannot move to %s", c.Status, to)
	}
	return []Event{CampaignStatusChanged{From: c.Status, To: to, Note: note, At: now}}, nil
}

// RecordCost decides RecordCampaignCost: the amount is not negative and in the campaign's
// currency (the first entry of a campaign without money fields sets it). Field violations name
// the CostEntry's fields under "entry".
func RecordCost(c Campaign, e CostEntry, now time.Time) ([]Event, error) {
	if !c.Exists() {
		return nil, apperr.NotFoundf("campaign", c.ID)
	}
	var v apperr.Violations
	switch {
	case e.Amount.IsZero() || e.Amount.Currency == "":
		v.Add("entry.amount", "required")
	case !money.ValidCurrency(e.Amount.Currency):
		v.Add("entry.amount.currency_code", "an ISO 4217 code such as EUR")
	case e.Amount.IsNegative():
		v.Add("entry.amount", "must not be negative")
	case c.Currency() != "" && e.Amount.Currency != c.Currency():
		v.Add("entry.amount.currency_code", "the campaign's currency is %s", c.Currency())
	}
	if e.Date != "" && !ValidDate(e.Date) {
		v.Add("entry.date", "want YYYY-MM-DD")
	}
	if len(e.Description) > MaxDescriptionLength {
		v.Add("entry.description", "too long")
	}
	if err := v.Err("invalid cost entry"); err != nil {
		return nil, err
	}
	// A zero actual cost may carry the currency of a budget changed since (Currency): the
	// first real entry starts the total in the campaign's currency, not in that stale one.
	total := e.Amount
	if !c.ActualCost.Amount.IsZero() {
		// The entry's currency is the campaign's (checked above), and a non-zero cost pins it.
		total = money.New(c.ActualCost.Currency, c.ActualCost.Amount.Add(e.Amount.Amount))
	}
	// The total travels in the API's int64 units: beyond them it could not be written into its
	// event and read back.
	if total.Amount.GreaterThan(money.MaxAmount) {
		return nil, apperr.InvalidFields("invalid cost entry", apperr.FieldViolation{Field: "entry.amount",
			Description: "the campaign's total cost would exceed " + money.MaxAmount.String()})
	}
	if e.Date == "" {
		e.Date = now.Format(time.DateOnly)
	}
	return []Event{CampaignCostRecorded{Entry: e, ActualCost: total, Channel: c.Channel, At: now}}, nil
}
