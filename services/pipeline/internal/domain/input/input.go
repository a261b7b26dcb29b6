// Package input holds the input rules every pipeline aggregate applies the same way: record
// ids, user ids, free text and tags. Keeping them in one place keeps the error messages and the
// limits identical across opportunities, quotes and contracts.
package input

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/evcrm/evcrm/libs/apperr"
)

// Limits shared by the aggregates.
const (
	MaxUserIDLen = 128
	MaxTags      = 100
	MaxTagLen    = 64
)

var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidID reports whether id can name a record (opportunity, quote, contract, account,
// contact, lead, campaign): [A-Za-z0-9_-]{1,64}, the alphabet of NATS subject tokens (DESIGN §3).
func ValidID(id string) bool { return idRE.MatchString(id) }

// IDMessage is the violation text of a bad record id.
const IDMessage = "must match [A-Za-z0-9_-]{1,64}"

// ValidUserID reports whether id can name a user (owner, mover): 1 to 128 printable characters
// without spaces, the rule the leads service applies. Whether the user exists is not the
// domain's business.
func ValidUserID(id string) bool {
	if id == "" || utf8.RuneCountInString(id) > MaxUserIDLen {
		return false
	}
	for _, r := range id {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// UserIDMessage is the violation text of a bad user id.
const UserIDMessage = "must be a user id (1 to 128 printable characters, no spaces)"

// CheckText returns what is wrong with a free-text value (too long, control characters), or "".
// Line breaks and tabs are allowed when multiline is true (descriptions, notes, terms).
func CheckText(s string, maxLen int, multiline bool) string {
	if utf8.RuneCountInString(s) > maxLen {
		return fmt.Sprintf("must be at most %d characters", maxLen)
	}
	bad := func(r rune) bool {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			return false
		}
		return unicode.IsControl(r)
	}
	if strings.IndexFunc(s, bad) >= 0 {
		return "must not contain control characters"
	}
	return ""
}

// Text adds a violation for field when s fails CheckText.
func Text(field, s string, maxLen int, multiline bool, v *apperr.Violations) {
	if msg := CheckText(s, maxLen, multiline); msg != "" {
		v.Add(field, "%s", msg)
	}
}

// OptionalID adds a violation for field when id is set and not a valid record id.
func OptionalID(field, id string, v *apperr.Violations) {
	if id != "" && !ValidID(id) {
		v.Add(field, IDMessage)
	}
}

// NormalizeTag returns the stored form of a tag: trimmed, lower-case, inner white space
// collapsed to one space (the leads service's rule, so tags read the same everywhere).
func NormalizeTag(t string) string {
	return strings.Join(strings.Fields(strings.ToLower(t)), " ")
}

// Tags validates and normalises tags into a sorted set; violations are "<field>[i]" per bad
// tag and "<field>" when there are too many.
func Tags(tags []string, field string, v *apperr.Violations) []string {
	var out []string
	for i, t := range tags {
		n := NormalizeTag(t)
		if n == "" || utf8.RuneCountInString(n) > MaxTagLen || strings.IndexFunc(n, unicode.IsControl) >= 0 {
			v.Add(fmt.Sprintf("%s[%d]", field, i), "must be 1 to %d printable characters", MaxTagLen)
			continue
		}
		out = append(out, n)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > MaxTags {
		v.Add(field, "at most %d tags", MaxTags)
	}
	return out
}
