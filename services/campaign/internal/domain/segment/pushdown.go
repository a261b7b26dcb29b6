package segment

import (
	"slices"
	"time"
)

// Filter is what the leads service's ListLeads and ListContacts can filter on, taken from the
// terms every match must satisfy. It selects a superset of the matches: callers page through
// the records it selects and evaluate the whole criteria on each.
type Filter struct {
	// Empty: the criteria contradict themselves (status in (NEW) and status in (SQL)), so
	// nothing matches and there is nothing to page through.
	Empty bool
	// Set filters: any of the values (nil: no filter).
	Statuses, Sources, Temperatures, Territories []string
	// Tag: records carrying this tag ("" no filter); ListLeads takes one tag.
	Tag string
	// Inclusive score bounds.
	MinScore, MaxScore *int64
	// Records created or updated at or after these times (zero: no filter).
	CreatedAfter, UpdatedAfter time.Time
	// Country: contacts' mailing country ("" no filter); ListContacts takes one.
	Country string
}

// Pushdown extracts the Filter of e for object o's list RPC at time now (the reference of
// "within Nd"; pass the same now on every page, since the leads service binds a page token to
// the filters). Only the top-level conjunction is pushed down: a term under or/not narrows
// nothing on its own.
func Pushdown(e Expr, o Object, now time.Time) Filter {
	var f Filter
	terms := []Expr{e}
	if a, ok := e.(*And); ok {
		terms = a.Terms
	}
	lead := o != ObjectContact
	for _, t := range terms {
		switch t := t.(type) {
		case *InTerm:
			switch {
			case lead && t.Field == FieldStatus:
				f.Statuses = intersect(f.Statuses, t.Values, &f.Empty)
			case lead && t.Field == FieldSource:
				f.Sources = intersect(f.Sources, t.Values, &f.Empty)
			case lead && t.Field == FieldTemperature:
				f.Temperatures = intersect(f.Temperatures, t.Values, &f.Empty)
			case lead && t.Field == FieldTerritory:
				f.Territories = intersect(f.Territories, t.Values, &f.Empty)
			case !lead && t.Field == FieldCountry && len(t.Values) == 1:
				if f.Country != "" && f.Country != t.Values[0] {
					f.Empty = true
				}
				f.Country = t.Values[0]
			}
		case *TagTerm:
			if t.Has && f.Tag == "" {
				f.Tag = t.Tag
			}
		case *CompareTerm:
			if lead && t.Field == NumScore {
				scoreBounds(&f, t.Op, t.Value)
			}
		case *WithinTerm:
			at := since(now, t.Days)
			p := &f.CreatedAfter
			if t.Field == TimeUpdated {
				p = &f.UpdatedAfter
			}
			if at.After(*p) {
				*p = at
			}
		}
	}
	if f.MinScore != nil && f.MaxScore != nil && *f.MinScore > *f.MaxScore {
		f.Empty = true
	}
	return f
}

// intersect narrows a set filter: nil means no filter yet.
func intersect(have, add []string, empty *bool) []string {
	if have == nil {
		return slices.Clone(add)
	}
	var out []string
	for _, v := range have {
		if slices.Contains(add, v) {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		*empty = true
		return []string{}
	}
	return out
}

func scoreBounds(f *Filter, op Op, n int64) {
	lower := func(v int64) {
		if f.MinScore == nil || v > *f.MinScore {
			f.MinScore = &v
		}
	}
	upper := func(v int64) {
		if f.MaxScore == nil || v < *f.MaxScore {
			f.MaxScore = &v
		}
	}
	switch op {
	case OpEq:
		lower(n)
		upper(n)
	case OpGe:
		lower(n)
	case OpGt:
		lower(n + 1)
	case OpLe:
		upper(n)
	case OpLt:
		upper(n - 1)
	}
}
