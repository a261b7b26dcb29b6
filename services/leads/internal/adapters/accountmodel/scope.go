package accountmodel

import (
	"slices"
	"strings"
)

// Scope limits a query to the accounts or contacts a caller may see (the row-level rules of
// libs/platform/authz.Scope, applied to accounts and contacts by the leads service's app
// layer): those owned by one of Owners, accounts in one of Territories (contacts carry no
// territory), and every unowned record (empty owner: accounts and contacts nobody owns are
// shared by the tenant). A nil *Scope limits nothing (admins, services); a Scope with neither
// owners nor territories matches no record at all, not even an unowned one.
//
// The filter is part of the SQL, not applied to a page after it is read, so pages stay full
// and a page token never skips or repeats the caller's rows. It is deliberately not part of a
// page token's fingerprint: the cursor only says where a walk stopped, and every page is
// filtered by the scope of the caller who asks for it.
type Scope struct {
	Owners      []string
	Territories []string
}

// add adds the scope's condition to w; territories count only where the table has a
// territory_id column (accounts).
func (s *Scope) add(w *where, territories bool) {
	if s == nil {
		return
	}
	owners := nonEmpty(s.Owners)
	var terrs []string
	if territories {
		terrs = nonEmpty(s.Territories)
	}
	if len(owners) == 0 && len(nonEmpty(s.Territories)) == 0 {
		w.add("0")
		return
	}
	var sub where
	sub.add("owner_id = ''")
	sub.in("owner_id", owners)
	sub.in("territory_id", terrs)
	w.add("("+strings.Join(sub.conds, " OR ")+")", sub.args...)
}

// nonEmpty drops "": an empty owner is the unowned case, matched on its own.
func nonEmpty(vals []string) []string {
	return slices.DeleteFunc(slices.Clone(vals), func(v string) bool { return v == "" })
}
