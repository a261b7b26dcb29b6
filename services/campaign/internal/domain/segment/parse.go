package segment

import (
	"fmt"
	"slices"
	"strings"
)

// maxDepth bounds nesting (parentheses and not), so hostile criteria cannot exhaust the stack.
const maxDepth = 64

// maxDays bounds "within Nd" to a hundred years.
const maxDays = 36500

// Parse parses criteria text into an expression. Errors are *Error with the position of the
// offending token, e.g. "expected ')' at 1:34, found end of criteria".
func Parse(src string) (Expr, error) {
	if len(src) > maxCriteria {
		return nil, &Error{Pos: Pos{1, 1}, Msg: fmt.Sprintf("criteria longer than %d bytes", maxCriteria)}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if p.peek().kind == tEOF {
		return nil, &Error{Pos: p.peek().pos, Msg: "criteria are empty"}
	}
	e, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, &Error{Pos: t.pos, Msg: "expected 'and', 'or' or end of criteria", Found: t.describe()}
	}
	return e, nil
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// isWord reports whether t is the keyword w (keywords ignore case).
func isWord(t token, w string) bool { return t.kind == tIdent && strings.EqualFold(t.text, w) }

func expected(what string, t token) error {
	return &Error{Pos: t.pos, Msg: "expected " + what, Found: t.describe()}
}

// expect consumes keyword w or fails.
func (p *parser) expect(w string) error {
	if t := p.peek(); !isWord(t, w) {
		return expected("'"+w+"'", t)
	}
	p.next()
	return nil
}

func (p *parser) or(depth int) (Expr, error) {
	first, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	terms, more := appendFlat[*Or](nil, first), false
	for isWord(p.peek(), "or") {
		more = true
		p.next()
		e, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		terms = appendFlat[*Or](terms, e)
	}
	if !more {
		return first, nil
	}
	return &Or{Pos: first.Position(), Terms: terms}, nil
}

func (p *parser) and(depth int) (Expr, error) {
	first, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	terms, more := appendFlat[*And](nil, first), false
	for isWord(p.peek(), "and") {
		more = true
		p.next()
		e, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		terms = appendFlat[*And](terms, e)
	}
	if !more {
		return first, nil
	}
	return &And{Pos: first.Position(), Terms: terms}, nil
}

// appendFlat appends e, or e's operands when e is the same operator (a parenthesised "a and
// (b and c)" is the same set as "a and b and c", and one canonical form needs one shape).
func appendFlat[T interface{ *And | *Or }](terms []Expr, e Expr) []Expr {
	switch x := any(e).(type) {
	case T:
		switch y := any(x).(type) {
		case *And:
			return append(terms, y.Terms...)
		case *Or:
			return append(terms, y.Terms...)
		}
	}
	return append(terms, e)
}

func (p *parser) unary(depth int) (Expr, error) {
	if depth >= maxDepth {
		return nil, &Error{Pos: p.peek().pos, Msg: fmt.Sprintf("criteria nested deeper than %d levels", maxDepth)}
	}
	t := p.peek()
	switch {
	case isWord(t, "not"):
		p.next()
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &Not{Pos: t.pos, X: x}, nil
	case t.kind == tLParen:
		p.next()
		e, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c.kind != tRParen {
			return nil, expected("')'", c)
		}
		p.next()
		return e, nil
	}
	return p.term()
}

// termStarts lists what may start a term, for the error when none does.
const termStarts = "a term (status, source, tag, score, temperature, territory, country, industry, employees, created, updated, member, opened, clicked, responded, converted, unsubscribed), 'not' or '('"

func (p *parser) term() (Expr, error) {
	t := p.peek()
	if t.kind != tIdent {
		return nil, expected(termStarts, t)
	}
	switch w := strings.ToLower(t.text); w {
	case "status", "source", "temperature", "territory", "country", "industry":
		p.next()
		return p.inTerm(t, Field(w))
	case "tag":
		p.next()
		if err := p.expect("has"); err != nil {
			return nil, err
		}
		has := true
		if isWord(p.peek(), "not") {
			p.next()
			has = false
		}
		v := p.peek()
		if v.kind != tString && v.kind != tIdent {
			return nil, expected("a tag in quotes", v)
		}
		p.next()
		tag := NormalizeTag(v.text)
		if tag == "" {
			return nil, &Error{Pos: v.pos, Msg: "tag is empty"}
		}
		return &TagTerm{Pos: t.pos, Tag: tag, Has: has}, nil
	case "score", "employees":
		p.next()
		op := p.peek()
		if op.kind != tOp {
			return nil, expected("a comparison (=, !=, <, <=, >, >=)", op)
		}
		p.next()
		n := p.peek()
		if n.kind != tNumber {
			return nil, expected("a whole number", n)
		}
		p.next()
		return &CompareTerm{Pos: t.pos, Field: NumField(w), Op: Op(op.text), Value: n.num}, nil
	case "created", "updated":
		p.next()
		if err := p.expect("within"); err != nil {
			return nil, err
		}
		d, err := p.days()
		if err != nil {
			return nil, err
		}
		return &WithinTerm{Pos: t.pos, Field: TimeField(w), Days: d}, nil
	case "member":
		p.next()
		if err := p.expect("of"); err != nil {
			return nil, err
		}
		if err := p.expect("campaign"); err != nil {
			return nil, err
		}
		id, err := p.campaignID()
		if err != nil {
			return nil, err
		}
		return &MemberTerm{Pos: t.pos, CampaignID: id}, nil
	case "opened", "clicked", "responded", "converted", "unsubscribed":
		p.next()
		if err := p.expect("campaign"); err != nil {
			return nil, err
		}
		id, err := p.campaignID()
		if err != nil {
			return nil, err
		}
		r := &ResponseTerm{Pos: t.pos, Kind: Kind(w), CampaignID: id}
		if isWord(p.peek(), "within") {
			p.next()
			if r.Days, err = p.days(); err != nil {
				return nil, err
			}
		}
		return r, nil
	}
	return nil, &Error{Pos: t.pos, Msg: "unknown term " + t.describe() + "; expected " + termStarts}
}

func (p *parser) days() (int, error) {
	t := p.peek()
	if t.kind != tDays {
		return 0, expected("a number of days like 30d", t)
	}
	if t.num < 1 || t.num > maxDays {
		return 0, &Error{Pos: t.pos, Msg: fmt.Sprintf("days must be 1 to %d", maxDays)}
	}
	p.next()
	return int(t.num), nil
}

// campaignID reads a quoted campaign id; ids are subject tokens ([A-Za-z0-9_-]).
func (p *parser) campaignID() (string, error) {
	t := p.peek()
	if t.kind != tString {
		return "", expected("a campaign id in quotes", t)
	}
	if !ValidID(t.text) {
		return "", &Error{Pos: t.pos, Msg: "campaign id must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -"}
	}
	p.next()
	return t.text, nil
}

// ValidID reports whether id is usable as an aggregate id (a NATS subject token).
func ValidID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func (p *parser) inTerm(start token, f Field) (Expr, error) {
	if err := p.expect("in"); err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tLParen {
		return nil, expected("'('", t)
	}
	p.next()
	var values []string
	for {
		v := p.peek()
		if v.kind != tIdent && v.kind != tString {
			return nil, expected("a "+string(f)+" value", v)
		}
		p.next()
		c, err := canonicalValue(f, v)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(values, c) {
			values = append(values, c)
		}
		t := p.next()
		if t.kind == tRParen {
			break
		}
		if t.kind != tComma {
			return nil, expected("',' or ')'", t)
		}
	}
	return &InTerm{Pos: start.pos, Field: f, Values: values}, nil
}

func canonicalValue(f Field, v token) (string, error) {
	s := strings.TrimSpace(v.text)
	if t, ok := enumTables[f]; ok {
		c, ok := t.canonical(s)
		if !ok {
			return "", &Error{Pos: v.pos, Msg: fmt.Sprintf("unknown %s %q; expected one of %s", t.what, v.text, strings.Join(t.names, ", "))}
		}
		return c, nil
	}
	switch f {
	case FieldCountry:
		u := strings.ToUpper(s)
		if len(u) != 2 || u[0] < 'A' || u[0] > 'Z' || u[1] < 'A' || u[1] > 'Z' {
			return "", &Error{Pos: v.pos, Msg: fmt.Sprintf("country %q must be a two-letter ISO 3166-1 code", v.text)}
		}
		return u, nil
	}
	if s == "" {
		return "", &Error{Pos: v.pos, Msg: string(f) + " value is empty"}
	}
	return s, nil
}

// NormalizeTag is the leads service's tag normalisation (lower case, single spaces), so a tag
// in criteria compares equal to the tag stored on a lead and can be pushed down to ListLeads.
func NormalizeTag(t string) string { return strings.Join(strings.Fields(strings.ToLower(t)), " ") }
