package segment

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Pos is a position in criteria text: 1-based line and column, columns counted in characters
// (runes), so a position points where a person reading the text would look.
type Pos struct {
	Line, Col int
}

// String formats the position as line:column.
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Error is a criteria syntax or meaning error at a position, e.g. "expected ')' at 1:34".
type Error struct {
	Pos Pos
	// Msg says what is wrong without the position.
	Msg string
	// Found describes what stands at Pos when that helps ("'and'", "end of criteria").
	Found string
}

func (e *Error) Error() string {
	s := e.Msg + " at " + e.Pos.String()
	if e.Found != "" {
		s += ", found " + e.Found
	}
	return s
}

type tokKind int

const (
	tEOF    tokKind = iota
	tIdent          // a word: keyword, field or enum value (letters, digits, _, -, .)
	tString         // a double-quoted string, unquoted in text
	tNumber         // an integer, with an optional sign
	tDays           // an integer followed by d, e.g. 90d
	tLParen
	tRParen
	tComma
	tOp // one of = != < <= > >=
)

func (k tokKind) String() string {
	switch k {
	case tEOF:
		return "end of criteria"
	case tIdent:
		return "word"
	case tString:
		return "quoted string"
	case tNumber:
		return "number"
	case tDays:
		return "duration like 30d"
	case tLParen:
		return "'('"
	case tRParen:
		return "')'"
	case tComma:
		return "','"
	}
	return "comparison operator"
}

type token struct {
	kind tokKind
	text string // for tString the unquoted value
	num  int64  // for tNumber and tDays
	pos  Pos
}

// describe names the token in an error message.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of criteria"
	case tString:
		return fmt.Sprintf("%q", t.text)
	}
	return "'" + t.text + "'"
}

// maxCriteria bounds the input so a parse is cheap whatever a client sends.
const maxCriteria = 16 << 10

// lex splits src into tokens. It fails on the first character that starts no token.
func lex(src string) ([]token, error) {
	if !utf8.ValidString(src) {
		return nil, &Error{Pos: Pos{1, 1}, Msg: "criteria are not valid UTF-8"}
	}
	var toks []token
	line, col := 1, 1
	i := 0
	adv := func(n int) { // advances over n bytes that hold no newline
		col += utf8.RuneCountInString(src[i : i+n])
		i += n
	}
	for i < len(src) {
		r, size := utf8.DecodeRuneInString(src[i:])
		pos := Pos{line, col}
		switch {
		case r == '\n':
			line, col = line+1, 1
			i += size
		case unicode.IsSpace(r):
			adv(size)
		case r == '(':
			toks = append(toks, token{kind: tLParen, text: "(", pos: pos})
			adv(1)
		case r == ')':
			toks = append(toks, token{kind: tRParen, text: ")", pos: pos})
			adv(1)
		case r == ',':
			toks = append(toks, token{kind: tComma, text: ",", pos: pos})
			adv(1)
		case r == '"':
			s, n, err := lexString(src[i:], pos)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tString, text: s, pos: pos})
			adv(n)
		case r == '<' || r == '>' || r == '=' || r == '!':
			n := 1
			if i+1 < len(src) && src[i+1] == '=' {
				n = 2
			}
			op := src[i : i+n]
			if op == "!" {
				return nil, &Error{Pos: pos, Msg: "expected '!=' after '!'"}
			}
			if op == "==" {
				op = "="
			}
			toks = append(toks, token{kind: tOp, text: op, pos: pos})
			adv(n)
		case r == '-' || r == '+' || unicode.IsDigit(r):
			t, n, err := lexNumber(src[i:], pos)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			adv(n)
		case isWordRune(r):
			n := 0
			for i+n < len(src) {
				r, s := utf8.DecodeRuneInString(src[i+n:])
				if !isWordRune(r) && !unicode.IsDigit(r) && r != '-' && r != '.' {
					break
				}
				n += s
			}
			toks = append(toks, token{kind: tIdent, text: src[i : i+n], pos: pos})
			adv(n)
		default:
			return nil, &Error{Pos: pos, Msg: fmt.Sprintf("unexpected character %q", r)}
		}
	}
	return append(toks, token{kind: tEOF, pos: Pos{line, col}}), nil
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) }

// lexString reads a double-quoted string at the start of s (escapes \" and \\), returning its
// value and its length in bytes. A string may not span lines.
func lexString(s string, pos Pos) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '"':
			return b.String(), i + size, nil
		case '\n':
			return "", 0, &Error{Pos: pos, Msg: "unterminated string"}
		case '\\':
			if i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
				b.WriteByte(s[i+1])
				i += 2
				continue
			}
			return "", 0, &Error{Pos: Pos{pos.Line, pos.Col + utf8.RuneCountInString(s[:i])}, Msg: `unknown escape; only \" and \\ are allowed`}
		}
		b.WriteRune(r)
		i += size
	}
	return "", 0, &Error{Pos: pos, Msg: "unterminated string"}
}

// lexNumber reads an optionally signed integer, and a d suffix that makes it a day count.
func lexNumber(s string, pos Pos) (token, int, error) {
	n := 0
	if s[0] == '-' || s[0] == '+' {
		n = 1
	}
	start := n
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n == start {
		return token{}, 0, &Error{Pos: pos, Msg: "expected a digit after the sign"}
	}
	var v int64
	for _, c := range s[start:n] {
		if v > (1<<62)/10 {
			return token{}, 0, &Error{Pos: pos, Msg: "number too large"}
		}
		v = v*10 + int64(c-'0')
	}
	if s[0] == '-' {
		v = -v
	}
	kind := tNumber
	if n < len(s) && (s[n] == 'd' || s[n] == 'D') {
		kind = tDays
		n++
	}
	if n < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[n:]); isWordRune(r) || unicode.IsDigit(r) {
			return token{}, 0, &Error{Pos: pos, Msg: fmt.Sprintf("malformed number %q; durations are written like 30d", s[:n+utf8.RuneLen(r)])}
		}
	}
	return token{kind: kind, text: s[:n], num: v, pos: pos}, n, nil
}
