package rule

import (
	"strconv"
)

// Values are the event payload and the record as generic trees (the protojson form with proto
// field names: maps, slices, strings, float64 numbers, bools; 64-bit integers may be strings).
type Values struct {
	Event  map[string]any
	Record map[string]any
}

// Holds reports whether the condition holds for v. A field that is absent compares as null:
// equal only to null, never ordered.
func (c Condition) Holds(v Values) bool {
	if c.root == nil {
		return true
	}
	return truth(eval(c.root, v))
}

func truth(x any) bool {
	b, ok := x.(bool)
	return ok && b
}

func eval(n node, v Values) any {
	switch n := n.(type) {
	case litNode:
		return n.v
	case *pathNode:
		return get(n, v)
	case *logicNode:
		l := truth(eval(n.l, v))
		if n.op == "and" {
			return l && truth(eval(n.r, v))
		}
		return l || truth(eval(n.r, v))
	case *notNode:
		return !truth(eval(n.x, v))
	case *cmpNode:
		return compare(n.op, eval(n.l, v), eval(n.r, v))
	case *inNode:
		l := eval(n.l, v)
		for _, lit := range n.set {
			if equal(l, lit.v) {
				return true
			}
		}
		return false
	case *hasNode:
		list, _ := get(n.l, v).([]any)
		for _, x := range list {
			if equal(x, n.r.v) {
				return true
			}
		}
		return false
	}
	return nil
}

func get(n *pathNode, v Values) any {
	var cur any = v.Event
	if n.root == "record" {
		cur = v.Record
	}
	read := n.read
	if read == nil {
		read = n.segs
	}
	for _, seg := range read {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[seg]
	}
	return cur
}

// number returns x as a number: float64 as it is, a numeric string (protojson's int64) parsed.
func number(x any) (float64, bool) {
	switch x := x.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

func equal(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	_, af := a.(float64)
	_, bf := b.(float64)
	if af || bf {
		x, ok1 := number(a)
		y, ok2 := number(b)
		return ok1 && ok2 && x == y
	}
	switch a := a.(type) {
	case string:
		s, ok := b.(string)
		return ok && s == a
	case bool:
		t, ok := b.(bool)
		return ok && t == a
	}
	return false
}

func compare(op string, a, b any) bool {
	switch op {
	case "==":
		return equal(a, b)
	case "!=":
		return !equal(a, b)
	}
	if a == nil || b == nil {
		return false
	}
	var c int
	_, af := a.(float64)
	_, bf := b.(float64)
	if af || bf {
		x, ok1 := number(a)
		y, ok2 := number(b)
		if !ok1 || !ok2 {
			return false
		}
		c = cmp3(x < y, x > y)
	} else {
		x, ok1 := a.(string)
		y, ok2 := b.(string)
		if !ok1 || !ok2 {
			return false
		}
		c = cmp3(x < y, x > y)
	}
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

func cmp3(lt, gt bool) int {
	switch {
	case lt:
		return -1
	case gt:
		return 1
	}
	return 0
}
