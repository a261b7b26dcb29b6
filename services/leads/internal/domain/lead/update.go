package lead

import (
	"fmt"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
)

// Update is the UpdateLead command: field-mask style. Paths name the fields to change (see the
// Path* constants, "utm", "custom_fields" and "custom_fields.<name>"); their new values are
// taken from Details, and a path whose value in Details is empty clears the field. Fields not
// named keep their values whatever Details holds.
type Update struct {
	Paths   []string
	Details Details
}

// UpdateDetails decides UpdateLead. Unknown paths and bad values are InvalidArgument (paths
// "update_mask.paths[i]" and the leaf paths). When nothing changes it returns no events. A
// change of country, region, industry or employee count recomputes the territory (and may
// reassign, see retarget); a change of a field fit rules read rescores the lead, which may
// qualify a NEW lead automatically. Only the changed fields are validated, so a value that
// became invalid since (e.g. a custom field whose definition was removed) does not block
// unrelated edits.
func UpdateDetails(l Lead, cmd Update, p Policy, assign Assigner, now time.Time) ([]Event, error) {
	if err := writable(l); err != nil {
		return nil, err
	}
	src := normalizeDetails(cmd.Details)
	var v apperr.Violations
	var leaves []string
	for i, path := range cmd.Paths {
		switch {
		case path == PathUTM:
			leaves = append(leaves, PathUTMSource, PathUTMMedium, PathUTMCampaign, PathUTMTerm, PathUTMContent)
		case path == PathCustomFields:
			leaves = append(leaves, customLeaves(l.Details, src)...)
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
	next := applyLeaves(l.Details, src, leaves)
	touched := map[string]bool{}
	for _, p := range leaves {
		touched[p] = true
	}
	validateDetails(next, p, func(path string) bool { return touched[path] }, &v)
	if err := v.Err("invalid lead update"); err != nil {
		return nil, err
	}

	var changed []string
	for _, path := range leaves {
		if !leafEqual(l.Details, next, path) {
			changed = append(changed, path)
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	b := builder{l: l}
	b.emit(LeadDetailsUpdated{Changed: changed, Before: pick(l.Details, changed), After: pick(next, changed), At: now})
	if err := b.followUp(changed, p, assign, TriggerDetailsUpdated, now); err != nil {
		return nil, err
	}
	return b.events, nil
}

// followUp recomputes what depends on changed details: territory (and owner), score, MQL.
func (b *builder) followUp(changed []string, p Policy, assign Assigner, trigger ScoreTrigger, now time.Time) error {
	if anyOf(changed, territoryPaths) {
		if err := b.retarget(p, assign, now); err != nil {
			return err
		}
	}
	if anyOf(changed, fitPaths) {
		b.rescore(p.Model, trigger, now)
		b.autoQualify(p.Model, false, now)
	}
	return nil
}
