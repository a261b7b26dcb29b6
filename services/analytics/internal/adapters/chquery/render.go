package chquery

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// placeholder is ClickHouse's query parameter syntax, {name:Type}. The .sql files use it so that
// current ClickHouse (and tools/chcompat) binds them server-side; 18.16 has no query parameters,
// so Render turns each into a typed literal before the query is sent.
var placeholder = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*):([^{}]+)\}`)

// Params are a query's parameter values by name. Go types per ClickHouse type: String string,
// Int64 int64, UInt8/UInt32/UInt64 uint64, DateTime time.Time (whole seconds, UTC), Date
// time.Time (the day of its UTC date), Array(String) []string.
type Params map[string]any

// Render returns sql with every {name:Type} placeholder replaced by a literal of that type
// holding p[name]. Values never become SQL text other than as quoted, escaped literals, and a
// missing parameter or a value of the wrong Go type is an error, never a default.
func Render(sql string, p Params) (string, error) {
	var err error
	out := placeholder.ReplaceAllStringFunc(sql, func(m string) string {
		if err != nil {
			return m
		}
		sub := placeholder.FindStringSubmatch(m)
		name, typ := sub[1], sub[2]
		v, ok := p[name]
		if !ok {
			err = fmt.Errorf("chquery: parameter %q is not set", name)
			return m
		}
		var lit string
		lit, err = literal(typ, v)
		if err != nil {
			err = fmt.Errorf("chquery: parameter %q: %w", name, err)
		}
		return lit
	})
	if err != nil {
		return "", err
	}
	return out, nil
}

func literal(typ string, v any) (string, error) {
	switch typ {
	case "String":
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%T for String", v)
		}
		return quote(s), nil
	case "Int64":
		n, ok := v.(int64)
		if !ok {
			return "", fmt.Errorf("%T for Int64", v)
		}
		return "toInt64(" + strconv.FormatInt(n, 10) + ")", nil
	case "UInt8", "UInt32", "UInt64":
		n, ok := v.(uint64)
		if !ok {
			return "", fmt.Errorf("%T for %s", v, typ)
		}
		// A bare number: LIMIT takes nothing else, and ClickHouse types it as the smallest
		// unsigned type that holds it.
		return strconv.FormatUint(n, 10), nil
	case "DateTime":
		t, ok := v.(time.Time)
		if !ok {
			return "", fmt.Errorf("%T for DateTime", v)
		}
		// From the Unix time, not a date string: a string would be read in the server's time
		// zone.
		if t.Unix() < 0 || t.Unix() > 1<<32-1 {
			return "", fmt.Errorf("%v outside DateTime", t)
		}
		return "toDateTime(" + strconv.FormatInt(t.Unix(), 10) + ")", nil
	case "Date":
		t, ok := v.(time.Time)
		if !ok {
			return "", fmt.Errorf("%T for Date", v)
		}
		return "toDate('" + t.UTC().Format(time.DateOnly) + "')", nil
	case "Array(String)":
		ss, ok := v.([]string)
		if !ok {
			return "", fmt.Errorf("%T for Array(String)", v)
		}
		q := make([]string, len(ss))
		for i, s := range ss {
			q[i] = quote(s)
		}
		// CAST: an empty [] is Array(Nothing), which has() cannot compare with a String.
		return "CAST([" + strings.Join(q, ", ") + "] AS Array(String))", nil
	}
	return "", fmt.Errorf("type %s is not supported", typ)
}

// quote returns s as a ClickHouse string literal: backslash and quote escaped, and control
// characters as \xHH so that nothing in s can end the literal or the line.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "\\x%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
