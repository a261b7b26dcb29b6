package segment

import (
	"strconv"
	"strings"
)

// Expr is a node of parsed criteria: And, Or, Not or one of the terms. The set is closed.
type Expr interface {
	// Pos is where the node starts in the criteria text.
	Position() Pos
	write(b *strings.Builder, parentPrec int)
}

// Precedences, loosest first: or < and < not; terms bind tightest.
const (
	precOr = iota + 1
	precAnd
	precNot
)

// And matches when every operand matches (two or more operands, none of them an And).
type And struct {
	Pos   Pos
	Terms []Expr
}

// Or matches when any operand matches (two or more operands, none of them an Or).
type Or struct {
	Pos   Pos
	Terms []Expr
}

// Not matches when its operand does not.
type Not struct {
	Pos Pos
	X   Expr
}

// Field names a set-valued attribute of InTerm.
type Field string

// The attributes of InTerm.
const (
	FieldStatus      Field = "status"
	FieldSource      Field = "source"
	FieldTemperature Field = "temperature"
	FieldTerritory   Field = "territory"
	FieldCountry     Field = "country"
	FieldIndustry    Field = "industry"
)

// InTerm is "<field> in (v, …)": the attribute equals one of Values. Values are canonical:
// enum names upper case without their prefix (MARKETING_QUALIFIED, WEB_FORM, HOT), countries
// upper case; territory and industry as written (industry compares ignoring case).
type InTerm struct {
	Pos    Pos
	Field  Field
	Values []string
}

// TagTerm is `tag has "t"` (Has) or `tag has not "t"`; tags compare ignoring case.
type TagTerm struct {
	Pos Pos
	Tag string
	Has bool
}

// NumField names a numeric attribute of CompareTerm.
type NumField string

// The attributes of CompareTerm.
const (
	NumScore     NumField = "score"
	NumEmployees NumField = "employees"
)

// Op is a comparison operator: = != < <= > >=.
type Op string

// The comparison operators.
const (
	OpEq Op = "="
	OpNe Op = "!="
	OpLt Op = "<"
	OpLe Op = "<="
	OpGt Op = ">"
	OpGe Op = ">="
)

// CompareTerm is "<score|employees> <op> n" (score is the lead's total score).
type CompareTerm struct {
	Pos   Pos
	Field NumField
	Op    Op
	Value int64
}

// TimeField names a timestamp attribute of WithinTerm.
type TimeField string

// The attributes of WithinTerm.
const (
	TimeCreated TimeField = "created"
	TimeUpdated TimeField = "updated"
)

// WithinTerm is "<created|updated> within Nd": the timestamp is at most Days days before now.
type WithinTerm struct {
	Pos   Pos
	Field TimeField
	Days  int
}

// MemberTerm is `member of campaign "id"`.
type MemberTerm struct {
	Pos        Pos
	CampaignID string
}

// Kind is a response kind of ResponseTerm.
type Kind string

// The response kinds a segment can ask about. Responded is any response whose status counts as
// responded in the campaign's status set.
const (
	KindOpened       Kind = "opened"
	KindClicked      Kind = "clicked"
	KindResponded    Kind = "responded"
	KindConverted    Kind = "converted"
	KindUnsubscribed Kind = "unsubscribed"
)

// ResponseTerm is `<kind> campaign "id" [within Nd]`: the person had such a response in the
// campaign (in the last Days days when Days > 0).
type ResponseTerm struct {
	Pos        Pos
	Kind       Kind
	CampaignID string
	Days       int
}

// Position implements Expr.
func (e *And) Position() Pos          { return e.Pos }
func (e *Or) Position() Pos           { return e.Pos }
func (e *Not) Position() Pos          { return e.Pos }
func (e *InTerm) Position() Pos       { return e.Pos }
func (e *TagTerm) Position() Pos      { return e.Pos }
func (e *CompareTerm) Position() Pos  { return e.Pos }
func (e *WithinTerm) Position() Pos   { return e.Pos }
func (e *MemberTerm) Position() Pos   { return e.Pos }
func (e *ResponseTerm) Position() Pos { return e.Pos }

// String prints e canonically: lower-case keywords, canonical values, single spaces, and
// parentheses only where precedence needs them. Parse(String(e)) yields an equal tree (apart
// from positions), so the canonical text is a stable key for criteria.
func String(e Expr) string {
	if e == nil {
		return ""
	}
	var b strings.Builder
	e.write(&b, 0)
	return b.String()
}

func writeList(b *strings.Builder, sep string, prec, parentPrec int, terms []Expr) {
	if prec < parentPrec {
		b.WriteByte('(')
	}
	for i, t := range terms {
		if i > 0 {
			b.WriteString(sep)
		}
		t.write(b, prec+1)
	}
	if prec < parentPrec {
		b.WriteByte(')')
	}
}

func (e *And) write(b *strings.Builder, p int) { writeList(b, " and ", precAnd, p, e.Terms) }
func (e *Or) write(b *strings.Builder, p int)  { writeList(b, " or ", precOr, p, e.Terms) }

func (e *Not) write(b *strings.Builder, p int) {
	b.WriteString("not ")
	e.X.write(b, precNot)
}

func (e *InTerm) write(b *strings.Builder, _ int) {
	b.WriteString(string(e.Field))
	b.WriteString(" in (")
	for i, v := range e.Values {
		if i > 0 {
			b.WriteString(", ")
		}
		writeValue(b, v)
	}
	b.WriteByte(')')
}

// writeValue writes a bare word when it lexes back as the same word, else a quoted string.
func writeValue(b *strings.Builder, v string) {
	if toks, err := lex(v); err == nil && len(toks) == 2 && toks[0].kind == tIdent && toks[0].text == v && !isKeyword(v) {
		b.WriteString(v)
		return
	}
	writeQuoted(b, v)
}

func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
}

func (e *TagTerm) write(b *strings.Builder, _ int) {
	b.WriteString("tag has ")
	if !e.Has {
		b.WriteString("not ")
	}
	writeQuoted(b, e.Tag)
}

func (e *CompareTerm) write(b *strings.Builder, _ int) {
	b.WriteString(string(e.Field) + " " + string(e.Op) + " " + strconv.FormatInt(e.Value, 10))
}

func (e *WithinTerm) write(b *strings.Builder, _ int) {
	b.WriteString(string(e.Field) + " within " + strconv.Itoa(e.Days) + "d")
}

func (e *MemberTerm) write(b *strings.Builder, _ int) {
	b.WriteString("member of campaign ")
	writeQuoted(b, e.CampaignID)
}

func (e *ResponseTerm) write(b *strings.Builder, _ int) {
	b.WriteString(string(e.Kind) + " campaign ")
	writeQuoted(b, e.CampaignID)
	if e.Days > 0 {
		b.WriteString(" within " + strconv.Itoa(e.Days) + "d")
	}
}
