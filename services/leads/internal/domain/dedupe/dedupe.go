// Package dedupe normalises the contact points that identify a lead (email, phone) and derives
// the keys under which the write path claims them, so that two leads of one tenant never share
// a normalised email or phone unless a command explicitly allows it.
package dedupe

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
)

// NormalizeEmail returns the form of an email address used for duplicate detection:
//
//   - surrounding white space is trimmed and the whole address is lower-cased (the local part is
//     case-sensitive in theory, but no mail provider in practice treats it so);
//   - plus-addressing is removed: "jane+news@acme.com" → "jane@acme.com";
//   - a trailing dot of the domain is dropped.
//
// Dots in the local part are kept: only some providers (Gmail) ignore them, and folding them
// everywhere would merge different people at other domains. A string without a single usable
// "@" is returned trimmed and lower-cased; syntax validation is the caller's job.
func NormalizeEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return s
	}
	local, domain := s[:at], strings.TrimSuffix(s[at+1:], ".")
	// A local part that starts with "+" has no base address; keep it whole.
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	return local + "@" + domain
}

// Phone number lengths of E.164: at most 15 digits; fewer than 7 is not a dialable number
// anywhere we sell.
const (
	minPhoneDigits = 7
	maxPhoneDigits = 15
)

// NormalizePhone returns an E.164-like form of a phone number for duplicate detection, or ""
// when s does not look like a phone number.
//
//   - an extension is dropped: everything from the first letter, '#', ';' or ',' ("x12",
//     "ext. 12", ";ext=12", pause characters);
//   - a leading "00" is the international prefix and becomes "+";
//   - the trunk prefix "(0)" written after a country code ("+44 (0)20 …") is dropped;
//   - separators (spaces, dots, dashes, slashes, parentheses) are dropped; the result is "+"
//     and digits for international numbers, digits only for national ones.
//
// Limits: no country is inferred for a national number (so "020 7946 0958" and
// "+44 20 7946 0958" do not match), vanity numbers with letters are cut at the first letter,
// and numbers with fewer than 7 or more than 15 digits give "".
func NormalizePhone(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsLetter(r) || r == '#' || r == ';' || r == ','
	}); i >= 0 {
		s = s[:i]
	}
	compact := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	intl := strings.HasPrefix(compact, "+") || strings.HasPrefix(compact, "00")
	if intl {
		compact = strings.ReplaceAll(compact, "(0)", "")
	}
	var b strings.Builder
	for _, r := range compact {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	digits := b.String()
	if !strings.HasPrefix(compact, "+") && strings.HasPrefix(digits, "00") {
		digits = digits[2:]
	}
	if len(digits) < minPhoneDigits || len(digits) > maxPhoneDigits {
		return ""
	}
	if intl {
		if digits[0] == '0' { // no country code starts with 0
			return ""
		}
		return "+" + digits
	}
	return digits
}

// Kind is the kind of contact point a uniqueness key claims.
type Kind string

// Kinds of uniqueness keys.
const (
	KindEmail Kind = "email"
	KindPhone Kind = "phone"
)

// Key returns the uniqueness key of a normalised contact point: "<kind>_<sha256 hex>". The
// value is hashed so that the claim store (e.g. a NATS KV bucket, whose keys allow only
// [-/_=.a-zA-Z0-9]) holds no personal data in clear and needs no erasure of its own. Keys are
// not tenant-scoped: the caller prefixes or partitions them by tenant.
func Key(kind Kind, normalized string) string {
	sum := sha256.Sum256([]byte(string(kind) + ":" + normalized))
	return string(kind) + "_" + hex.EncodeToString(sum[:])
}

// Keys returns the uniqueness keys of a lead's raw email and phone, email first; an empty or
// unusable value yields no key.
func Keys(email, phone string) []string {
	var keys []string
	if e := NormalizeEmail(email); e != "" {
		keys = append(keys, Key(KindEmail, e))
	}
	if p := NormalizePhone(phone); p != "" {
		keys = append(keys, Key(KindPhone, p))
	}
	return keys
}
