// Package pagetoken makes the opaque page tokens of the read models' list queries: a keyset
// cursor (the sort key and id of the last row served, never an offset) bound to the query it was
// issued for, so a token replayed with other filters or another order is refused instead of
// silently skipping or repeating rows.
package pagetoken

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
)

// ErrInvalid is returned for a token that is malformed or was issued for another query.
var ErrInvalid = errors.New("pagetoken: malformed, or issued for another query")

const version = 1

type envelope struct {
	V    int             `json:"v"` // format version
	Kind string          `json:"k"` // which query ("l" list, "s" search, …)
	Hash string          `json:"h"` // Fingerprint of tenant + filters + order
	C    json.RawMessage `json:"c"` // the caller's cursor
}

// Encode returns the token carrying cursor (a struct with JSON-encodable fields) for the query
// identified by kind and hash.
func Encode(kind, hash string, cursor any) string {
	c, err := json.Marshal(cursor)
	if err != nil {
		panic("pagetoken: cursor does not encode: " + err.Error()) // a programming error
	}
	b, _ := json.Marshal(envelope{V: version, Kind: kind, Hash: hash, C: c})
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode fills cursor from token. An empty token is the first page: ok is false and cursor is
// untouched. A token not issued by Encode for the same kind and hash is ErrInvalid.
func Decode(token, kind, hash string, cursor any) (ok bool, err error) {
	if token == "" {
		return false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return false, ErrInvalid
	}
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil || e.V != version || e.Kind != kind || e.Hash != hash {
		return false, ErrInvalid
	}
	if err := json.Unmarshal(e.C, cursor); err != nil {
		return false, ErrInvalid
	}
	return true, nil
}

// Fingerprint hashes a query's parts for the token's hash. Parts are length-prefixed, so
// ("ab","c") and ("a","bc") differ. 64 bits: it guards against a mixed-up token, not an attacker
// (a forged token can only move the cursor within the caller's own tenant and query).
type Fingerprint struct{ b []byte }

// Str adds a string part.
func (f *Fingerprint) Str(s string) {
	f.b = binary.AppendUvarint(f.b, uint64(len(s)))
	f.b = append(f.b, s...)
}

// Int adds an integer part.
func (f *Fingerprint) Int(n int64) { f.Str(strconv.FormatInt(n, 10)) }

// Set adds a set: order and duplicates do not change the query, so they do not change the
// fingerprint either.
func (f *Fingerprint) Set(vals []string) {
	v := slices.Clone(vals)
	slices.Sort(v)
	v = slices.Compact(v)
	f.Int(int64(len(v)))
	for _, s := range v {
		f.Str(s)
	}
}

// IntSet adds a set of integers (enum values).
func IntSet[T ~int | ~int32 | ~int64](f *Fingerprint, vals []T) {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = strconv.FormatInt(int64(v), 10)
	}
	f.Set(s)
}

// Sum returns the fingerprint.
func (f *Fingerprint) Sum() string {
	h := sha256.Sum256(f.b)
	return base64.RawURLEncoding.EncodeToString(h[:8])
}
