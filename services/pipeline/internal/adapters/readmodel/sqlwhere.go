package readmodel

import "strings"

// where collects the conditions and arguments of a query.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// in adds col IN (vals); nothing for no values.
func in[T any](w *where, col string, vals []T) {
	switch len(vals) {
	case 0:
	case 1:
		w.add(col+" = ?", vals[0])
	default:
		args := make([]any, len(vals))
		for i, v := range vals {
			args[i] = v
		}
		w.add(col+" IN ("+placeholders(len(vals))+")", args...)
	}
}

func (w *where) sql() string { return strings.Join(w.conds, " AND ") }
