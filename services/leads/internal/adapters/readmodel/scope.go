package readmodel

import "slices"

// Scope limits a query to the leads a caller may see (the row-level rules of
// libs/platform/authz.Scope): those owned by one of Owners or in one of
// Territories. A nil *Scope limits nothing (admins, services); a Scope with
// neither owners nor territories matches no lead.
//
// The filter is part of the SQL, not applied to a page after it is read, so
// pages stay full and a page token never skips or repeats the caller's rows.
// It is deliberately not part of a page token's fingerprint: the cursor only
// says where a walk stopped, and every page is filtered by the scope of the
// caller who asks for it.
type Scope struct {
	Owners      []string
	Territories []string
}

// where adds the scope's condition on the leads row aliased l to b.
func (s *Scope) where(b *sqlBuilder) {
	if s == nil {
		return
	}
	var conds []string
	var args []any
	for _, set := range []struct {
		col  string
		vals []string
	}{{"l.owner", s.Owners}, {"l.territory", s.Territories}} {
		var sub sqlBuilder
		sub.in(set.col, nonEmpty(set.vals))
		conds = append(conds, sub.conds...)
		args = append(args, sub.args...)
	}
	switch len(conds) {
	case 0:
		b.where("0")
	case 1:
		b.where(conds[0], args...)
	default:
		b.where("("+conds[0]+" OR "+conds[1]+")", args...)
	}
}

// nonEmpty drops "": an unowned lead (empty owner) is in scope only through its
// territory, and a lead in no territory only through its owner.
func nonEmpty(vals []string) []string {
	return slices.DeleteFunc(slices.Clone(vals), func(v string) bool { return v == "" })
}
