package readmodel

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strconv"
)

// cursor is what a page token carries: the sort key and id of the last row of the previous
// page (a keyset, never an offset) and a fingerprint of the query it belongs to.
type cursor struct {
	V    int    `json:"v"`           // format version
	Kind string `json:"k"`           // "o" opportunities, "p" pipelines, "c" contracts
	Hash string `json:"h"`           // fingerprint of tenant, filters and order
	Str  string `json:"s,omitempty"` // text sort key (a date, a currency)
	N1   int64  `json:"a,omitempty"` // integer sort keys (a time; units and nanos of an amount)
	N2   int64  `json:"b,omitempty"`
	ID   string `json:"i"` // tiebreak
}

const cursorVersion = 1

func (c cursor) encode() string {
	c.V = cursorVersion
	b, _ := json.Marshal(c) // cannot fail: plain fields
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor parses token and checks that it was issued for the query of kind and hash. An
// empty token is the first page (nil, nil).
func decodeCursor(token, kind, hash string) (*cursor, error) {
	if token == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, errBadPageToken()
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, errBadPageToken()
	}
	if c.V != cursorVersion || c.Kind != kind || c.Hash != hash || c.ID == "" {
		return nil, errBadPageToken()
	}
	return &c, nil
}

// fingerprint hashes length-prefixed parts, so ("ab","c") and ("a","bc") differ. 64 bits: it
// guards against a mixed-up token, not an attacker (a forged token can only move the cursor
// within the caller's own tenant and query).
type fingerprint struct{ b []byte }

func (f *fingerprint) str(s string) {
	f.b = binary.AppendUvarint(f.b, uint64(len(s)))
	f.b = append(f.b, s...)
}

func (f *fingerprint) int(n int64) { f.str(strconv.FormatInt(n, 10)) }

// set adds a set: order and duplicates do not change the query, so they do not change the
// fingerprint either.
func (f *fingerprint) set(vals []string) {
	v := slices.Clone(vals)
	slices.Sort(v)
	v = slices.Compact(v)
	f.int(int64(len(v)))
	for _, s := range v {
		f.str(s)
	}
}

func intSet[T ~int](f *fingerprint, vals []T) {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = strconv.Itoa(int(v))
	}
	f.set(s)
}

func (f *fingerprint) sum() string {
	h := sha256.Sum256(f.b)
	return base64.RawURLEncoding.EncodeToString(h[:8])
}
