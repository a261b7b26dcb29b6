package readmodel

import (
	"hash/fnv"
	"strings"
	"unicode"
)

// Column letters inside search tokens, in rank order (best match first).
const (
	colLast    = 'l'
	colFirst   = 'f'
	colEmail   = 'e'
	colCompany = 'c'
)

// tenantHashLen is the length of the tenant prefix of every search token; the
// prefix option of leads_fts depends on it.
const tenantHashLen = 8

const base32 = "0123456789abcdefghijklmnopqrstuv"

// tenantHash is 40 bits of FNV-1a of the tenant id in 8 base32 characters.
// It only scopes index lookups: a collision would surface another tenant's
// rowid, which the read then drops because the row's tenant differs.
func tenantHash(tenant string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(tenant))
	v := h.Sum64()
	var b [tenantHashLen]byte
	for i := range b {
		b[i] = base32[v&31]
		v >>= 5
	}
	return string(b[:])
}

// maxWordLen bounds one search word (in bytes, cut at a rune boundary).
const maxWordLen = 64

// words splits text into search words: runs of letters and digits, lower
// cased and folded (diacritics removed for Latin letters, ß → ss). Anything
// else separates words, so FTS5 syntax characters never reach a query.
func words(text string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			w := b.String()
			if len(w) > maxWordLen {
				w = w[:maxWordLen]
				for len(w) > 0 && !validTail(w) {
					w = w[:len(w)-1]
				}
			}
			out = append(out, w)
			b.Reset()
		}
	}
	for _, r := range text {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		r = unicode.ToLower(r)
		if f, ok := fold[r]; ok {
			b.WriteString(f)
			continue
		}
		b.WriteRune(r)
	}
	flush()
	return out
}

func validTail(s string) bool { return strings.ToValidUTF8(s, "\x00") == s }

// searchTerms is the text indexed for a lead.
func searchTerms(tenant, first, last, email, company string) string {
	th := tenantHash(tenant)
	var b strings.Builder
	for _, c := range []struct {
		col  byte
		text string
	}{{colFirst, first}, {colLast, last}, {colEmail, email}, {colCompany, company}} {
		for _, w := range words(c.text) {
			b.WriteString(th)
			b.WriteByte(c.col)
			b.WriteString(w)
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// fold maps Latin letters with diacritics (lower case; words lower-cases
// first) to their base letters, so "Müller" is found by "muller".
var fold = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ð': "d", 'þ': "th", 'ł': "l", 'ı': "i"}
	groups := map[string]string{
		"a": "àáâãäåāăą", "c": "çćĉċč", "d": "ď", "e": "èéêëēĕėęě", "g": "ĝğġģ", "h": "ĥħ",
		"i": "ìíîïĩīĭįİ", "j": "ĵ", "k": "ķ", "l": "ĺļľŀ", "n": "ñńņňŉ", "o": "òóôõöōŏő",
		"r": "ŕŗř", "s": "śŝşšș", "t": "ţťŧț", "u": "ùúûüũūŭůűų", "w": "ŵ", "y": "ýÿŷ", "z": "źżž",
	}
	for base, letters := range groups {
		for _, r := range letters {
			m[r] = base
		}
	}
	return m
}()
