package activitymodel

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
)

// Scope limits a query to the activities and tasks a caller may see (the row-level rules of
// libs/platform/authz.Scope). A nil *Scope limits nothing (admins, services); a Scope with
// neither owners nor territories matches nothing.
//
// An activity is in scope when one of Owners logged it, or when at least one lead, account or
// contact it concerns is; a task when one of Owners created it or is its assignee, or when the
// lead, account or contact it is about is. Those records are judged exactly as their own reads
// judge them (readmodel.Scope, accountmodel.Scope), on the owner and territory this model keeps
// in record_scope:
//   - a lead by its owner or its territory (an unowned lead only through its territory);
//   - an account by its owner or its territory, and every unowned account;
//   - a contact by its owner (contacts carry no territory), and every unowned contact.
//
// Opportunities (the pipeline service's records) widen nothing: this model does not follow
// their owners, so an activity or task that concerns only opportunities is in scope by the
// first rule alone.
//
// The filter is part of the SQL, so pages stay full and a page token never skips or repeats
// the caller's rows; it is not part of a page token's fingerprint (every page is filtered by
// the scope of the caller who asks for it). Owners and territories are bound as one JSON array
// each (json_each), so the statement's text and its number of parameters do not depend on the
// size of a team.
type Scope struct {
	Owners      []string
	Territories []string
}

// scopeArgs are a scope's bound values: JSON arrays of the non-empty owners and territories.
type scopeArgs struct {
	owners, territories string
	none                bool // no owner and no territory: nothing is in scope
}

func (s *Scope) args() scopeArgs {
	o, t := nonEmpty(s.Owners), nonEmpty(s.Territories)
	ob, _ := json.Marshal(o) // []string always marshals
	tb, _ := json.Marshal(t)
	return scopeArgs{owners: string(ob), territories: string(tb), none: len(o) == 0 && len(t) == 0}
}

// inList tests a column against a bound JSON array of strings.
const inList = " IN (SELECT value FROM json_each(?))"

// recordCond is the condition on a record_scope row aliased rs: the record is in scope.
func (a scopeArgs) recordCond() (string, []any) {
	return fmt.Sprintf(`((rs.record_type = %d AND (rs.owner`+inList+` OR rs.territory`+inList+`))
		OR (rs.record_type = %d AND (rs.owner = '' OR rs.owner`+inList+` OR rs.territory`+inList+`))
		OR (rs.record_type = %d AND (rs.owner = '' OR rs.owner`+inList+`)))`,
			activity.RecordLead, activity.RecordAccount, activity.RecordContact),
		[]any{a.owners, a.territories, a.owners, a.territories, a.owners}
}

// activityCond is the condition on an activities row aliased by alias: the activity is in
// scope.
func (s *Scope) activityCond(alias string) (string, []any) {
	a := s.args()
	if a.none {
		return "0", nil
	}
	rc, rargs := a.recordCond()
	return fmt.Sprintf(`(%[1]s.logged_by`+inList+` OR EXISTS (SELECT 1 FROM activity_records ar
		JOIN record_scope rs ON rs.tenant = ar.tenant AND rs.record_type = ar.record_type AND rs.record_id = ar.record_id
		WHERE ar.tenant = %[1]s.tenant AND ar.activity_id = %[1]s.id AND %[2]s))`, alias, rc),
		append([]any{a.owners}, rargs...)
}

// taskCond is the condition on a tasks row aliased by alias: the task is in scope.
func (s *Scope) taskCond(alias string) (string, []any) {
	a := s.args()
	if a.none {
		return "0", nil
	}
	rc, rargs := a.recordCond()
	return fmt.Sprintf(`(%[1]s.assignee_id`+inList+` OR %[1]s.created_by`+inList+` OR EXISTS (SELECT 1 FROM record_scope rs
		WHERE rs.tenant = %[1]s.tenant AND rs.record_type = %[1]s.record_type AND rs.record_id = %[1]s.record_id AND %[2]s))`, alias, rc),
		append([]any{a.owners, a.owners}, rargs...)
}

// entryCond is the condition on a timeline row aliased tl: the entry's item is in scope (an
// activity or task entry by the item's current state, a conversion entry by the lead it comes
// from). An entry about nothing else (a record's own event) is out: callers filter by entry
// only on the timelines of records they do not otherwise judge (opportunities).
func (s *Scope) entryCond() (string, []any) {
	a := s.args()
	if a.none {
		return "0", nil
	}
	ac, aargs := s.activityCond("a")
	tc, targs := s.taskCond("t")
	rc, rargs := a.recordCond()
	cond := fmt.Sprintf(`((tl.item_kind = %d AND EXISTS (SELECT 1 FROM activities a WHERE a.tenant = tl.tenant AND a.id = tl.item_id AND %s))
		OR (tl.item_kind = %d AND EXISTS (SELECT 1 FROM tasks t WHERE t.tenant = tl.tenant AND t.id = tl.item_id AND %s))
		OR (tl.item_kind = %d AND tl.item_id != '' AND EXISTS (SELECT 1 FROM record_scope rs
			WHERE rs.tenant = tl.tenant AND rs.record_type = %d AND rs.record_id = tl.item_id AND %s)))`,
		itemActivity, ac, itemTask, tc, itemNone, activity.RecordLead, rc)
	args := append(append(aargs, targs...), rargs...)
	return cond, args
}

// nonEmpty drops "": an empty owner or territory is the unowned case, matched (or not) on its
// own, never through a caller's list.
func nonEmpty(vals []string) []string {
	return slices.DeleteFunc(slices.Clone(vals), func(v string) bool { return v == "" })
}
