package account

import (
	"fmt"
	"slices"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

// Reasons of FailedPrecondition errors.
const (
	ReasonParentCycle    = "ACCOUNT_PARENT_CYCLE"
	ReasonParentNotFound = "ACCOUNT_PARENT_NOT_FOUND"
	ReasonTooDeep        = "ACCOUNT_HIERARCHY_TOO_DEEP"
)

// MaxDepth is the deepest an account hierarchy may be: walking the parents of an account must
// end within MaxDepth steps.
const MaxDepth = 32

// New is the CreateAccount command.
type New struct {
	// ID is the caller's id (conversion and import derive one) or, when empty, the app's.
	ID      string
	Details Details
	// SourceLeadID names the lead a conversion created the account from.
	SourceLeadID string
}

// Update is the UpdateAccount command, field-mask style: Paths name the fields to change (see
// the Path* constants, "billing_address", "shipping_address", "custom_fields",
// "custom_fields.<name>"); their values come from Details, and an empty value clears the field.
type Update struct {
	Paths   []string
	Details Details
}

// Create decides CreateAccount. Every field is validated (one violation per bad field); the
// territory is matched from the tenant's territories when not given. The parent's existence
// and the dedupe key's uniqueness are the app's to check.
func Create(a Account, cmd New, p Policy, now time.Time) ([]Event, error) {
	if a.Exists() {
		return nil, apperr.Exists("account already exists", a.ID)
	}
	var v apperr.Violations
	if !ValidID(cmd.ID) {
		v.Add(Field+"id", "must match [A-Za-z0-9_-]{1,64}")
	}
	if cmd.SourceLeadID != "" && !ValidID(cmd.SourceLeadID) {
		v.Add(Field+"source_lead_id", "must match [A-Za-z0-9_-]{1,64}")
	}
	d := Normalize(cmd.Details, &v)
	if d.Domain == "" && d.Website != "" {
		d.Domain = NormalizeDomain(d.Website)
	}
	validate(d, p, func(string) bool { return true }, &v)
	if d.ParentAccountID != "" && d.ParentAccountID == cmd.ID {
		v.Add(Field+PathParentAccountID, "an account cannot be its own parent")
	}
	if err := v.Err("invalid account"); err != nil {
		return nil, err
	}
	if d.TerritoryID == "" {
		d.TerritoryID = matchTerritory(p, d)
	}
	n := Account{ID: cmd.ID, Details: d, SourceLeadID: cmd.SourceLeadID, CreatedAt: now, UpdatedAt: now}
	return []Event{AccountCreated{Account: n, At: now}}, nil
}

// TerritoryFacts are what territories match an account on: billing country and region,
// industry, employee count.
func TerritoryFacts(d Details) territory.Facts {
	return territory.Facts{Country: d.BillingAddress.Country, Region: d.BillingAddress.Region,
		Industry: d.Industry, EmployeeCount: d.EmployeeCount}
}

func matchTerritory(p Policy, d Details) string {
	if t, ok := territory.Match(p.Territories, TerritoryFacts(d)); ok {
		return t.ID
	}
	return ""
}

// UpdateDetails decides UpdateAccount. ancestors are the ids from the new parent up to the
// root (the parent first), which the app collects when the mask names parent_account_id; the
// account among them is a cycle (FailedPrecondition ACCOUNT_PARENT_CYCLE). Only the changed
// fields are validated; no change gives no events.
func UpdateDetails(a Account, cmd Update, p Policy, ancestors []string, now time.Time) ([]Event, error) {
	if !a.Exists() {
		return nil, apperr.NotFoundf("account", a.ID)
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
			leaves = append(leaves, customLeaves(a.Details, src)...)
		default:
			leaves = append(leaves, ls...)
		}
	}
	if len(cmd.Paths) == 0 {
		v.Add("update_mask.paths", "name at least one field to update")
	}
	leaves = sortLeaves(leaves)
	next := ApplyLeaves(a.Details, src, leaves)
	touched := map[string]bool{}
	for _, l := range leaves {
		touched[l] = true
	}
	validate(next, p, func(path string) bool { return touched[path] }, &v)
	if touched[PathParentAccountID] && next.ParentAccountID != "" && next.ParentAccountID == a.ID {
		v.Add(Field+PathParentAccountID, "an account cannot be its own parent")
	}
	if err := v.Err("invalid account update"); err != nil {
		return nil, err
	}
	if touched[PathParentAccountID] && next.ParentAccountID != a.Details.ParentAccountID && next.ParentAccountID != "" {
		if slices.Contains(ancestors, a.ID) {
			return nil, apperr.Precondition(ReasonParentCycle, "account %s is an ancestor of %s: making it the parent would create a cycle", a.ID, next.ParentAccountID)
		}
		if len(ancestors) >= MaxDepth {
			return nil, apperr.Precondition(ReasonTooDeep, "an account hierarchy is at most %d levels deep", MaxDepth)
		}
	}
	var changed []string
	for _, path := range leaves {
		if !leafEqual(a.Details, next, path) {
			changed = append(changed, path)
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	return []Event{AccountUpdated{Changed: changed, Before: Pick(a.Details, changed), After: Pick(next, changed), At: now}}, nil
}

// maskLeaves lists every leaf the mask could name, so Normalize sees only named values (a
// bad value in a field the mask does not name is ignored, as field masks promise).
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
