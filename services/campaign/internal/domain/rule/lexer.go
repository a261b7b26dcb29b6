package rule

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token of the condition language.
type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokString
	tokNumber
	tokDot
	tokComma
	tokLParen
	tokRParen
	tokOp // == != < <= > >=
)

// token is one lexical token; pos is its 1-based column (in runes).
type token struct {
	kind tokKind
	text string // identifier, operator, or the decoded string literal
	pos  int
}

// SyntaxError is a condition that does not parse or names an unknown field. Pos is the 1-based
// column (in characters) where the problem is.
type SyntaxError struct {
	Pos int
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("column %d: %s", e.Pos, e.Msg) }

func errAt(pos int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// lex splits src into tokens.
func lex(src string) ([]token, error) {
	var toks []token
	col := 1
	i := 0
	for i < len(src) {
		r, w := utf8.DecodeRuneInString(src[i:])
		start := col
		switch {
		case r == utf8.RuneError && w == 1:
			return nil, errAt(col, "invalid UTF-8")
		case unicode.IsSpace(r):
			i, col = i+w, col+1
			continue
		case r == '.':
			toks = append(toks, token{tokDot, ".", start})
			i, col = i+1, col+1
		case r == ',':
			toks = append(toks, token{tokComma, ",", start})
			i, col = i+1, col+1
		case r == '(':
			toks = append(toks, token{tokLParen, "(", start})
			i, col = i+1, col+1
		case r == ')':
			toks = append(toks, token{tokRParen, ")", start})
			i, col = i+1, col+1
		case r == '=' || r == '!' || r == '<' || r == '>':
			op := string(r)
			if i+1 < len(src) && src[i+1] == '=' {
				op += "="
			}
			if op == "=" || op == "!" {
				return nil, errAt(start, "unexpected %q (use == or !=)", op)
			}
			toks = append(toks, token{tokOp, op, start})
			i, col = i+len(op), col+len(op)
		case r == '"' || r == '\'':
			s, n, cols, err := lexString(src[i:], start)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tokString, s, start})
			i, col = i+n, col+cols
		case r == '-' || (r >= '0' && r <= '9'):
			j := i + 1
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.' || src[j] == 'e' || src[j] == 'E' ||
				((src[j] == '+' || src[j] == '-') && (src[j-1] == 'e' || src[j-1] == 'E'))) {
				j++
			}
			toks = append(toks, token{tokNumber, src[i:j], start})
			col += j - i
			i = j
		case r == '_' || unicode.IsLetter(r):
			j, cols := i, 0
			for j < len(src) {
				r2, w2 := utf8.DecodeRuneInString(src[j:])
				if r2 != '_' && !unicode.IsLetter(r2) && !unicode.IsDigit(r2) {
					break
				}
				j, cols = j+w2, cols+1
			}
			toks = append(toks, token{tokIdent, src[i:j], start})
			i, col = j, col+cols
		default:
			return nil, errAt(start, "unexpected character %q", r)
		}
	}
	return append(toks, token{tokEOF, "", col}), nil
}

// lexString decodes a quoted string at the start of s: the quote character ends it, a
// backslash escapes the next character. It returns the value, bytes and columns consumed.
func lexString(s string, pos int) (string, int, int, error) {
	q := s[0]
	var b strings.Builder
	cols := 1
	for i := 1; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && w == 1:
			return "", 0, 0, errAt(pos+cols, "invalid UTF-8")
		case byte(r) == q && w == 1:
			return b.String(), i + 1, cols + 1, nil
		case r == '\\':
			if i+1 >= len(s) {
				return "", 0, 0, errAt(pos, "unterminated string")
			}
			r2, w2 := utf8.DecodeRuneInString(s[i+1:])
			switch r2 {
			case 'n':
				r2 = '\n'
			case 't':
				r2 = '\t'
			}
			b.WriteRune(r2)
			i, cols = i+1+w2, cols+2
			continue
		}
		b.WriteRune(r)
		i, cols = i+w, cols+1
	}
	return "", 0, 0, errAt(pos, "unterminated string")
}
