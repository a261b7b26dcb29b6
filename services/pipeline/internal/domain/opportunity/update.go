package opportunity

import (
	"fmt"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
)

// Update is the UpdateOpportunity command for descriptive fields, field-mask style: Paths name
// the fields to change (the Path* constants, "custom_fields" and "custom_fields.<name>"), their
// new values are taken from Details, and a path whose value in Details is empty clears the
// field (except name, which is required). Fields not named keep their values whatever Details
// holds. Amount, close date, probability, category, owner, stage and contact roles have their
// own commands and events.
type Update struct {
	Paths   []string
	Details Details
}

// UpdateDetails decides UpdateOpportunity. Unknown paths and bad values are InvalidArgument
// (paths "update_mask.paths[i]" and the leaf paths). Only the named fields are validated, so a
// value that became invalid since (e.g. a custom field whose definition was removed) does not
// block unrelated edits. When nothing changes it returns no events.
func UpdateDetails(o Opportunity, cmd Update, pol Policy, now time.Time) ([]Event, error) {
	if err := writable(o); err != nil {
		return nil, err
	}
	var v apperr.Violations
	var leaves []string
	for i, path := range cmd.Paths {
		switch {
		case path == PathCustomFields:
			leaves = append(leaves, customLeaves(o.Details, cmd.Details)...)
		default:
			if _, ok := accessors[path]; ok {
				leaves = append(leaves, path)
			} else if _, ok := customName(path); ok {
				leaves = append(leaves, path)
			} else {
				v.Add(fmt.Sprintf("update_mask.paths[%d]", i), "unknown field %q", path)
			}
		}
	}
	if len(cmd.Paths) == 0 {
		v.Add("update_mask.paths", "name at least one field to update")
	}
	leaves = sortLeaves(leaves)
	touched := map[string]bool{}
	for _, p := range leaves {
		touched[p] = true
	}
	isTouched := func(p string) bool { return touched[p] }
	src := normalizeDetails(cmd.Details, isTouched, &v)
	next := applyLeaves(o.Details, src, leaves)
	validateDetails(next, pol, isTouched, &v)
	if err := v.Err("invalid opportunity update"); err != nil {
		return nil, err
	}
	var changed []string
	for _, path := range leaves {
		if !leafEqual(o.Details, next, path) {
			changed = append(changed, path)
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	return []Event{OpportunityDetailsUpdated{Changed: changed, Before: pick(o.Details, changed),
		After: pick(next, changed), At: now}}, nil
}
