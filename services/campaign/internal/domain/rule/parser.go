package rule

import (
	"strconv"
	"strings"
)

// The grammar of a condition (keywords are lower case):
//
//	expr    = and { "or" and }
//	and     = unary { "and" unary }
//	unary   = "not" unary | primary
//	primary = "(" expr ")" | operand [ cmpop operand | "in" "(" literal { "," literal } ")" | "has" literal ]
//	operand = path | literal
//	path    = ( "event" | "record" ) "." name { "." name }
//	literal = string | number | "true" | "false" | "null"
//	cmpop   = "==" | "!=" | "<" | "<=" | ">" | ">="
//
// Names are the proto field names (snake_case) of the event message and of the record.

// node is a parsed condition.
type node interface{ position() int }

type pathNode struct {
	pos  int
	root string   // "event" or "record"
	segs []string // as written
	// Filled by resolve: what to read in the value tree and what it is.
	read  []string
	field *Field
}

type litNode struct {
	pos int
	v   any // string, float64, bool or nil
}

type cmpNode struct {
	pos  int
	op   string
	l, r node
}

type inNode struct {
	pos int
	l   node
	set []litNode
}

type hasNode struct {
	pos int
	l   *pathNode
	r   litNode
}

type logicNode struct {
	pos  int
	op   string // "and", "or"
	l, r node
}

type notNode struct {
	pos int
	x   node
}

func (n *pathNode) position() int  { return n.pos }
func (n litNode) position() int    { return n.pos }
func (n *cmpNode) position() int   { return n.pos }
func (n *inNode) position() int    { return n.pos }
func (n *hasNode) position() int   { return n.pos }
func (n *logicNode) position() int { return n.pos }
func (n *notNode) position() int   { return n.pos }

// maxDepth bounds nesting so a hostile condition cannot exhaust the stack.
const maxDepth = 64

type parser struct {
	toks  []token
	i     int
	depth int
}

// parse parses src into a syntax tree (no field checks).
func parse(src string) (node, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, errAt(t.pos, "unexpected %q", t.text)
	}
	return n, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) keyword(w string) bool {
	t := p.peek()
	return t.kind == tokIdent && t.text == w
}

func (p *parser) expr() (node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, errAt(p.peek().pos, "condition nested too deeply")
	}
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		t := p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &logicNode{pos: t.pos, op: "or", l: l, r: r}
	}
	return l, nil
}

func (p *parser) and() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		t := p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &logicNode{pos: t.pos, op: "and", l: l, r: r}
	}
	return l, nil
}

func (p *parser) unary() (node, error) {
	if p.keyword("not") {
		t := p.next()
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxDepth {
			return nil, errAt(t.pos, "condition nested too deeply")
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &notNode{pos: t.pos, x: x}, nil
	}
	return p.primary()
}

func (p *parser) primary() (node, error) {
	if p.peek().kind == tokLParen {
		p.next()
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != tokRParen {
			return nil, errAt(t.pos, "expected ) but found %s", describe(t))
		}
		return n, nil
	}
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	switch {
	case t.kind == tokOp:
		p.next()
		r, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &cmpNode{pos: t.pos, op: t.text, l: l, r: r}, nil
	case p.keyword("in"):
		p.next()
		return p.in(t.pos, l)
	case p.keyword("has"):
		p.next()
		path, ok := l.(*pathNode)
		if !ok {
			return nil, errAt(t.pos, "has needs a field on its left, e.g. record.tags has \"vip\"")
		}
		r, err := p.literal()
		if err != nil {
			return nil, err
		}
		return &hasNode{pos: t.pos, l: path, r: r}, nil
	}
	return l, nil
}

func (p *parser) in(pos int, l node) (node, error) {
	if t := p.next(); t.kind != tokLParen {
		return nil, errAt(t.pos, "expected ( after in but found %s", describe(t))
	}
	n := &inNode{pos: pos, l: l}
	for {
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		n.set = append(n.set, lit)
		t := p.next()
		if t.kind == tokRParen {
			return n, nil
		}
		if t.kind != tokComma {
			return nil, errAt(t.pos, "expected , or ) but found %s", describe(t))
		}
	}
}

func (p *parser) operand() (node, error) {
	t := p.peek()
	if t.kind == tokIdent && (t.text == "event" || t.text == "record") {
		p.next()
		n := &pathNode{pos: t.pos, root: t.text}
		for p.peek().kind == tokDot {
			p.next()
			seg := p.next()
			if seg.kind != tokIdent {
				return nil, errAt(seg.pos, "expected a field name after . but found %s", describe(seg))
			}
			n.segs = append(n.segs, seg.text)
		}
		if len(n.segs) == 0 {
			return nil, errAt(t.pos, "%s needs a field, e.g. %s.status", t.text, t.text)
		}
		return n, nil
	}
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	return lit, nil
}

func (p *parser) literal() (litNode, error) {
	t := p.next()
	switch t.kind {
	case tokString:
		return litNode{pos: t.pos, v: t.text}, nil
	case tokNumber:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return litNode{}, errAt(t.pos, "bad number %q", t.text)
		}
		return litNode{pos: t.pos, v: f}, nil
	case tokIdent:
		switch t.text {
		case "true":
			return litNode{pos: t.pos, v: true}, nil
		case "false":
			return litNode{pos: t.pos, v: false}, nil
		case "null":
			return litNode{pos: t.pos, v: nil}, nil
		}
		return litNode{}, errAt(t.pos, "unknown name %q (fields start with event. or record.; strings are quoted)", t.text)
	}
	return litNode{}, errAt(t.pos, "expected a value but found %s", describe(t))
}

func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "the end"
	case tokString:
		return strconv.Quote(t.text)
	}
	return "\"" + strings.ReplaceAll(t.text, "\"", "\\\"") + "\""
}
