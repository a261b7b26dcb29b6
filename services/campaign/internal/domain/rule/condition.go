package rule

import "strings"

// Condition is a compiled condition: parsed, its fields resolved against the trigger's event
// and record, and type-checked. The zero Condition (an empty text) always holds.
type Condition struct {
	root node
}

// Compile parses src and checks every field it names against schema. Errors are *SyntaxError
// with the column of the problem.
func Compile(src string, schema EventSchema) (Condition, error) {
	if strings.TrimSpace(src) == "" {
		return Condition{}, nil
	}
	n, err := parse(src)
	if err != nil {
		return Condition{}, err
	}
	c := checker{schema: schema}
	if err := c.boolean(n); err != nil {
		return Condition{}, err
	}
	return Condition{root: n}, nil
}

// Parse only checks src's syntax (the fuzz target's entry point and a cheap pre-check).
func Parse(src string) error {
	if strings.TrimSpace(src) == "" {
		return nil
	}
	_, err := parse(src)
	return err
}

type checker struct{ schema EventSchema }

// boolean checks that n is a condition (true or false) and resolves the fields below it.
func (c checker) boolean(n node) error {
	switch n := n.(type) {
	case *logicNode:
		if err := c.boolean(n.l); err != nil {
			return err
		}
		return c.boolean(n.r)
	case *notNode:
		return c.boolean(n.x)
	case *cmpNode:
		return c.compare(n)
	case *inNode:
		f, err := c.value(n.l)
		if err != nil {
			return err
		}
		if f != nil && f.Repeated {
			return errAt(n.pos, "in needs a single value on its left; for a list use has")
		}
		return nil
	case *hasNode:
		f, err := c.resolve(n.l)
		if err != nil {
			return err
		}
		if !f.Repeated && f.Kind != KindAny {
			return errAt(n.pos, "has needs a list on its left; %s is not one", n.l.name())
		}
		return nil
	case *pathNode:
		f, err := c.resolve(n)
		if err != nil {
			return err
		}
		if f.Repeated || (f.Kind != KindBool && f.Kind != KindAny) {
			return errAt(n.pos, "%s is not true/false; compare it, e.g. %s == \"…\"", n.name(), n.name())
		}
		return nil
	case litNode:
		if _, ok := n.v.(bool); !ok {
			return errAt(n.pos, "a condition must be true or false")
		}
		return nil
	}
	return errAt(n.position(), "not a condition")
}

func (c checker) compare(n *cmpNode) error {
	lf, err := c.value(n.l)
	if err != nil {
		return err
	}
	rf, err := c.value(n.r)
	if err != nil {
		return err
	}
	for _, f := range []*Field{lf, rf} {
		if f == nil {
			continue
		}
		if f.Repeated {
			return errAt(n.pos, "%s compares a list; use has", n.op)
		}
		if f.Kind == KindMessage {
			return errAt(n.pos, "%s compares a message; name one of its fields", n.op)
		}
		if n.op != "==" && n.op != "!=" && f.Kind == KindBool {
			return errAt(n.pos, "%s does not apply to true/false", n.op)
		}
	}
	for _, x := range []node{n.l, n.r} {
		if l, ok := x.(litNode); ok && n.op != "==" && n.op != "!=" {
			if _, isBool := l.v.(bool); isBool || l.v == nil {
				return errAt(l.pos, "%s needs a number or a string", n.op)
			}
		}
	}
	return nil
}

// value checks an operand of a comparison; it returns the field for a path, nil for a literal.
func (c checker) value(n node) (*Field, error) {
	switch n := n.(type) {
	case *pathNode:
		return c.resolve(n)
	case litNode:
		return nil, nil
	}
	return nil, errAt(n.position(), "expected a field or a value")
}

func (c checker) resolve(n *pathNode) (*Field, error) {
	root := c.schema.Payload
	if n.root == "record" {
		root = c.schema.Record
		if root == nil {
			return nil, errAt(n.pos, "this trigger's events have no record; use event.…")
		}
	}
	if root == nil {
		return nil, errAt(n.pos, "unknown trigger event")
	}
	f, read, bad := root.lookup(n.segs)
	if bad >= 0 {
		pos := n.pos + len(n.root) + 1
		for _, s := range n.segs[:bad] {
			pos += len([]rune(s)) + 1
		}
		return nil, errAt(pos, "unknown field %s.%s", n.root, strings.Join(n.segs[:bad+1], "."))
	}
	n.read, n.field = read, f
	return f, nil
}

func (n *pathNode) name() string { return n.root + "." + strings.Join(n.segs, ".") }
