package account

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/evcrm/evcrm/services/leads/internal/domain/dedupe"
)

// Dedupe key kinds of accounts.
const (
	KindDomain dedupe.Kind = "domain"
	KindName   dedupe.Kind = "name"
)

var domainRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)

// NormalizeDomain returns the matching form of a web domain or URL: lower case, without scheme,
// user info, port, "www.", path, query and trailing dot ("https://WWW.Acme.com/about" →
// "acme.com"). It returns "" when nothing domain-like remains.
func NormalizeDomain(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ""
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	host := strings.TrimSuffix(u.Hostname(), ".")
	host = strings.TrimPrefix(host, "www.")
	if !domainRE.MatchString(host) {
		return ""
	}
	return host
}

// legalSuffixes are company-form words dropped from the end of a name for matching, so that
// "Acme, Inc." and "ACME" are one account.
var legalSuffixes = map[string]bool{
	"inc": true, "incorporated": true, "ltd": true, "limited": true, "llc": true, "llp": true,
	"gmbh": true, "ag": true, "kg": true, "ug": true, "corp": true, "corporation": true,
	"co": true, "company": true, "plc": true, "sa": true, "sas": true, "sarl": true, "srl": true,
	"spa": true, "bv": true, "nv": true, "oy": true, "ab": true, "as": true, "pty": true,
	"pte": true, "kk": true,
}

// NormalizeName returns the matching form of an organisation name: lower case, punctuation
// removed, white space collapsed, and trailing legal forms (Inc, Ltd, GmbH, LLC, …) dropped
// ("Acme, Inc." → "acme"). A name made only of legal forms keeps them.
func NormalizeName(s string) string {
	s = strings.ToLower(s)
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '&' })
	// "g.m.b.h." splits into single letters; join runs of one-letter words first so the
	// suffix list sees "gmbh".
	var joined []string
	run := ""
	for _, w := range words {
		if len([]rune(w)) == 1 && w != "&" {
			run += w
			continue
		}
		if run != "" {
			joined = append(joined, run)
			run = ""
		}
		joined = append(joined, w)
	}
	if run != "" {
		joined = append(joined, run)
	}
	for len(joined) > 1 && legalSuffixes[joined[len(joined)-1]] {
		joined = joined[:len(joined)-1]
	}
	return strings.Join(joined, " ")
}

// DedupeKey returns the uniqueness key of an account: its normalised domain, or its normalised
// name when it has no domain; "" when it has neither.
func DedupeKey(d Details) string {
	if dom := NormalizeDomain(d.Domain); dom != "" {
		return dedupe.Key(KindDomain, dom)
	}
	if n := NormalizeName(d.Name); n != "" {
		return dedupe.Key(KindName, n)
	}
	return ""
}
