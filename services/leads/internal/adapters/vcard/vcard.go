// Package vcard reads vCard files (3.0 and 4.0, and the 2.1 that older Outlook versions
// write, with quoted-printable values) into contact cards, telling the line each card begins
// on. Property parsing is github.com/emersion/go-vcard's; this package splits the file into
// cards itself (go-vcard does not count lines), checks that the file is UTF-8 text, and
// normalises what exporters disagree on (TYPE parameters written bare, PREF as a type or a
// parameter).
package vcard

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"strings"
	"unicode/utf8"

	govcard "github.com/emersion/go-vcard"
)

// ErrMalformed is wrapped by every error that makes the whole file unreadable.
var ErrMalformed = errors.New("malformed vCard file")

// MalformedError says why and where a file is not a readable vCard file.
type MalformedError struct {
	// Line is 1-based; 0 for the file as a whole.
	Line   int
	Reason string
}

func (e *MalformedError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("malformed vCard file: line %d: %s", e.Line, e.Reason)
	}
	return "malformed vCard file: " + e.Reason
}

// Unwrap makes errors.Is(err, ErrMalformed) hold.
func (e *MalformedError) Unwrap() error { return ErrMalformed }

// Typed is a value with its TYPE parameters (lower case) and whether it is preferred.
type Typed struct {
	Value string
	Types []string
	Pref  bool
}

// Has reports whether t has the type (case-insensitive).
func (t Typed) Has(typ string) bool {
	for _, x := range t.Types {
		if strings.EqualFold(x, typ) {
			return true
		}
	}
	return false
}

// Address is an ADR property.
type Address struct {
	Types                                     []string
	Street, City, Region, PostalCode, Country string
	POBox, Extended                           string
}

// Card is one contact card.
type Card struct {
	// Line is the line of BEGIN:VCARD.
	Line    int
	Version string
	// FormattedName is FN; GivenName and FamilyName come from N.
	FormattedName, GivenName, FamilyName string
	Emails, Phones                       []Typed
	// Org is the organisation's name (ORG's first component), Department the second.
	Org, Department string
	Title, Note     string
	Addresses       []Address
	Categories      []string
}

// MaxCards bounds the cards of one file.
const MaxCards = 1_000_000

// Parse reads every card of a file.
func Parse(r io.Reader) ([]Card, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	if err := checkText(data); err != nil {
		return nil, err
	}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var cards []Card
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		if !strings.EqualFold(l, "BEGIN:VCARD") {
			return nil, &MalformedError{Line: i + 1, Reason: "expected BEGIN:VCARD"}
		}
		begin := i
		var body []string
		ended := false
		for i++; i < len(lines); i++ {
			t := strings.TrimRight(lines[i], "\r")
			if strings.EqualFold(strings.TrimSpace(t), "END:VCARD") {
				ended = true
				break
			}
			if strings.EqualFold(strings.TrimSpace(t), "BEGIN:VCARD") {
				return nil, &MalformedError{Line: i + 1, Reason: fmt.Sprintf("a card begins before the card of line %d ends (END:VCARD missing)", begin+1)}
			}
			body = append(body, t)
		}
		if !ended {
			return nil, &MalformedError{Line: begin + 1, Reason: "the card has no END:VCARD"}
		}
		if len(cards) == MaxCards {
			return nil, &MalformedError{Reason: fmt.Sprintf("more than %d cards", MaxCards)}
		}
		c, err := decodeCard(body)
		if err != nil {
			return nil, &MalformedError{Line: begin + 1, Reason: err.Error()}
		}
		c.Line = begin + 1
		cards = append(cards, c)
	}
	if len(cards) == 0 {
		return nil, &MalformedError{Reason: "no BEGIN:VCARD: the file holds no card"}
	}
	return cards, nil
}

func checkText(data []byte) error {
	line := 1
	for i := 0; i < len(data); {
		c := data[i]
		switch {
		case c == 0:
			return &MalformedError{Line: line, Reason: "the file contains a NUL byte: it is binary or not UTF-8"}
		case c == '\n':
			line++
			i++
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 {
				return &MalformedError{Line: line, Reason: "the file is not valid UTF-8"}
			}
			i += n
		}
	}
	return nil
}

// decodeCard unfolds the card's lines, rewrites 2.1-isms, and decodes it with go-vcard.
func decodeCard(body []string) (Card, error) {
	var props []string
	for i := 0; i < len(body); i++ {
		l := body[i]
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(props) > 0 {
			props[len(props)-1] += l[1:]
			continue
		}
		// vCard 2.1 quoted-printable values continue with a soft line break ("=" at the end).
		if isQP(l) {
			for strings.HasSuffix(l, "=") && i+1 < len(body) {
				i++
				l = l + "\n" + body[i]
			}
			l = strings.ReplaceAll(l, "=\n", "")
		}
		props = append(props, l)
	}
	var buf strings.Builder
	buf.WriteString("BEGIN:VCARD\r\n")
	for _, p := range props {
		buf.WriteString(rewrite(p))
		buf.WriteString("\r\n")
	}
	buf.WriteString("END:VCARD\r\n")
	vc, err := govcard.NewDecoder(strings.NewReader(buf.String())).Decode()
	if err != nil {
		return Card{}, err
	}
	return fromVCard(vc), nil
}

// split separates a content line into its name-and-parameters and its value at the first
// colon outside double quotes.
func split(line string) (head, value string, ok bool) {
	quoted := false
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			quoted = !quoted
		case ':':
			if !quoted {
				return line[:i], line[i+1:], true
			}
		}
	}
	return line, "", false
}

func isQP(line string) bool {
	head, _, _ := split(line)
	return strings.Contains(strings.ToUpper(head), "QUOTED-PRINTABLE")
}

// rewrite turns bare parameters ("TEL;WORK;VOICE:") into TYPE parameters and decodes
// quoted-printable values, so go-vcard sees 3.0-style lines.
func rewrite(line string) string {
	head, value, ok := split(line)
	if !ok {
		return line
	}
	parts := strings.Split(head, ";")
	qp := false
	charsetOK := true
	out := parts[:1]
	for _, p := range parts[1:] {
		k, _, hasEq := strings.Cut(p, "=")
		switch {
		case strings.EqualFold(p, "QUOTED-PRINTABLE") || (hasEq && strings.EqualFold(k, "ENCODING") && strings.Contains(strings.ToUpper(p), "QUOTED-PRINTABLE")):
			qp = true
		case hasEq && strings.EqualFold(k, "CHARSET"):
			charsetOK = strings.EqualFold(strings.TrimPrefix(p, k+"="), "UTF-8")
		case !hasEq && p != "":
			out = append(out, "TYPE="+p)
		default:
			out = append(out, p)
		}
	}
	if qp {
		if dec, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(value))); err == nil && (charsetOK || utf8.Valid(dec)) {
			value = string(dec)
		}
		// A decoded value may hold newlines (a multi-line NOTE): escape them as 3.0 does.
		value = strings.ReplaceAll(strings.ReplaceAll(value, "\r\n", "\n"), "\n", `\n`)
	}
	return strings.Join(out, ";") + ":" + value
}

func fromVCard(vc govcard.Card) Card {
	c := Card{Version: vc.Value(govcard.FieldVersion), FormattedName: strings.TrimSpace(vc.Value(govcard.FieldFormattedName))}
	if n := vc.Name(); n != nil {
		c.GivenName, c.FamilyName = strings.TrimSpace(n.GivenName), strings.TrimSpace(n.FamilyName)
	}
	c.Emails = typed(vc, govcard.FieldEmail)
	c.Phones = typed(vc, govcard.FieldTelephone)
	if org := vc.Get(govcard.FieldOrganization); org != nil {
		parts := strings.Split(org.Value, ";")
		c.Org = strings.TrimSpace(parts[0])
		if len(parts) > 1 {
			c.Department = strings.TrimSpace(parts[1])
		}
	}
	c.Title = strings.TrimSpace(vc.Value(govcard.FieldTitle))
	c.Note = strings.TrimSpace(vc.Value(govcard.FieldNote))
	for _, a := range vc.Addresses() {
		c.Addresses = append(c.Addresses, Address{Types: a.Params.Types(), Street: strings.TrimSpace(a.StreetAddress),
			City: strings.TrimSpace(a.Locality), Region: strings.TrimSpace(a.Region), PostalCode: strings.TrimSpace(a.PostalCode),
			Country: strings.TrimSpace(a.Country), POBox: a.PostOfficeBox, Extended: a.ExtendedAddress})
	}
	for _, cat := range vc.Categories() {
		if cat = strings.TrimSpace(cat); cat != "" {
			c.Categories = append(c.Categories, cat)
		}
	}
	return c
}

func typed(vc govcard.Card, key string) []Typed {
	var out []Typed
	for _, f := range vc[key] {
		v := strings.TrimSpace(f.Value)
		// 4.0 writes phones as URIs ("tel:+1-555"), 3.0 as text.
		v = strings.TrimPrefix(strings.TrimPrefix(v, "tel:"), "mailto:")
		if v == "" {
			continue
		}
		t := Typed{Value: v, Types: f.Params.Types(), Pref: f.Params.Get(govcard.ParamPreferred) != "" || f.Params.HasType("pref")}
		out = append(out, t)
	}
	return out
}

// PreferredEmail is the email to use as a contact's: the preferred one, else a work one, else
// the first.
func (c Card) PreferredEmail() string { return pick(c.Emails, func(Typed) bool { return false }) }

// WorkPhone is the first preferred or work phone that is not a mobile, else the first
// non-mobile one.
func (c Card) WorkPhone() string {
	return pick(c.Phones, func(t Typed) bool { return t.Has("cell") || t.Has("fax") || t.Has("pager") })
}

// MobilePhone is the first mobile phone.
func (c Card) MobilePhone() string {
	for _, t := range c.Phones {
		if t.Has("cell") {
			return t.Value
		}
	}
	return ""
}

// pick returns the preferred, else the first work, else the first value not excluded.
func pick(ts []Typed, exclude func(Typed) bool) string {
	var work, first string
	for _, t := range ts {
		if exclude(t) {
			continue
		}
		if t.Pref {
			return t.Value
		}
		if work == "" && t.Has("work") {
			work = t.Value
		}
		if first == "" {
			first = t.Value
		}
	}
	if work != "" {
		return work
	}
	return first
}

// PreferredAddress is the work address, else the first.
func (c Card) PreferredAddress() (Address, bool) {
	for _, a := range c.Addresses {
		for _, t := range a.Types {
			if t == "work" || t == "pref" {
				return a, true
			}
		}
	}
	if len(c.Addresses) > 0 {
		return c.Addresses[0], true
	}
	return Address{}, false
}
