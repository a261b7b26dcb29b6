package segment

import (
	"slices"
	"strings"
	"time"
)

// Object is whose records a segment selects.
type Object string

// The objects a segment can select.
const (
	ObjectLead    Object = "lead"
	ObjectContact Object = "contact"
)

// Person is what criteria are evaluated against: a lead's or contact's attributes and its
// campaign touches. Enum attributes hold canonical names (MARKETING_QUALIFIED, WEB_FORM, HOT),
// "" when unset; attributes the record type lacks (a contact's status) stay zero.
type Person struct {
	Object      Object
	ID          string
	Status      string
	Source      string
	Temperature string
	Tags        []string
	Score       int64
	TerritoryID string
	Country     string
	Industry    string
	Employees   int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// EmailOptOut and DoNotContact are not criteria: enrollment passes them on to AddMembers,
	// which suppresses such people.
	EmailOptOut  bool
	DoNotContact bool
	// Touches are the person's memberships and responses across campaigns (only needed when
	// the criteria ask about campaigns: see NeedsTouches).
	Touches []Touch
}

// Touch is one membership or response of a person in a campaign.
type Touch struct {
	CampaignID string
	// Kind is "" for the membership itself, else the response kind (opened, clicked,
	// converted, unsubscribed, or another kind the campaign records).
	Kind Kind
	// Responded: the response's status counts as responded in the campaign's status set.
	Responded bool
	At        time.Time
}

// Eval reports whether p matches e at time now (the reference of "within Nd").
func Eval(e Expr, p Person, now time.Time) bool {
	switch e := e.(type) {
	case *And:
		for _, t := range e.Terms {
			if !Eval(t, p, now) {
				return false
			}
		}
		return true
	case *Or:
		for _, t := range e.Terms {
			if Eval(t, p, now) {
				return true
			}
		}
		return false
	case *Not:
		return !Eval(e.X, p, now)
	case *InTerm:
		return inTerm(e, p)
	case *TagTerm:
		has := slices.ContainsFunc(p.Tags, func(t string) bool { return strings.EqualFold(t, e.Tag) })
		return has == e.Has
	case *CompareTerm:
		v := p.Score
		if e.Field == NumEmployees {
			v = p.Employees
		}
		return compare(v, e.Op, e.Value)
	case *WithinTerm:
		at := p.CreatedAt
		if e.Field == TimeUpdated {
			at = p.UpdatedAt
		}
		return !at.IsZero() && !at.Before(since(now, e.Days))
	case *MemberTerm:
		return slices.ContainsFunc(p.Touches, func(t Touch) bool { return t.CampaignID == e.CampaignID })
	case *ResponseTerm:
		return slices.ContainsFunc(p.Touches, func(t Touch) bool {
			if t.CampaignID != e.CampaignID || (e.Days > 0 && t.At.Before(since(now, e.Days))) {
				return false
			}
			if e.Kind == KindResponded {
				return t.Responded
			}
			return t.Kind == e.Kind
		})
	}
	return false
}

// since is the start of the last days days before now.
func since(now time.Time, days int) time.Time { return now.Add(-time.Duration(days) * 24 * time.Hour) }

func inTerm(e *InTerm, p Person) bool {
	var v string
	switch e.Field {
	case FieldStatus:
		v = p.Status
	case FieldSource:
		v = p.Source
	case FieldTemperature:
		v = p.Temperature
	case FieldTerritory:
		v = p.TerritoryID
	case FieldCountry:
		v = strings.ToUpper(p.Country)
	case FieldIndustry:
		return p.Industry != "" && slices.ContainsFunc(e.Values, func(x string) bool { return strings.EqualFold(x, p.Industry) })
	}
	return v != "" && slices.Contains(e.Values, v)
}

func compare(v int64, op Op, n int64) bool {
	switch op {
	case OpEq:
		return v == n
	case OpNe:
		return v != n
	case OpLt:
		return v < n
	case OpLe:
		return v <= n
	case OpGt:
		return v > n
	case OpGe:
		return v >= n
	}
	return false
}

// NeedsTouches reports whether e asks about campaign membership or responses, so a caller
// fetches touches only when they matter.
func NeedsTouches(e Expr) bool {
	found := false
	Walk(e, func(x Expr) {
		switch x.(type) {
		case *MemberTerm, *ResponseTerm:
			found = true
		}
	})
	return found
}

// Walk calls fn for e and every node below it, parents first.
func Walk(e Expr, fn func(Expr)) {
	if e == nil {
		return
	}
	fn(e)
	switch e := e.(type) {
	case *And:
		for _, t := range e.Terms {
			Walk(t, fn)
		}
	case *Or:
		for _, t := range e.Terms {
			Walk(t, fn)
		}
	case *Not:
		Walk(e.X, fn)
	}
}

// leadOnly are the terms a contact has no attribute for.
var leadOnly = map[string]bool{
	string(FieldStatus): true, string(FieldTemperature): true,
	string(FieldTerritory): true, string(FieldIndustry): true, string(NumScore): true, string(NumEmployees): true,
}

// CheckObject returns an *Error for the first term that object's records have no attribute for
// (a contact has no status, score, temperature, territory, industry or employee
// count), so such criteria are refused when saved rather than silently matching nothing.
func CheckObject(e Expr, o Object) error {
	if o != ObjectContact {
		return nil
	}
	var err error
	Walk(e, func(x Expr) {
		if err != nil {
			return
		}
		var f string
		switch x := x.(type) {
		case *InTerm:
			f = string(x.Field)
		case *CompareTerm:
			f = string(x.Field)
		}
		if leadOnly[f] {
			err = &Error{Pos: x.Position(), Msg: f + " applies to leads only; this segment selects contacts"}
		}
	})
	return err
}
