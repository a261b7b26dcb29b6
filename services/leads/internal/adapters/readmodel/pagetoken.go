package readmodel

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// cursor is what a page token carries: the position after the last row of
// the previous page (a keyset, never an offset) and a fingerprint of the
// query it belongs to.
type cursor struct {
	V    int    `json:"v"`           // format version
	Kind string `json:"k"`           // "l" list, "s" search
	Hash string `json:"h"`           // fingerprint of tenant + filters + sort / search text
	Int  int64  `json:"n,omitempty"` // integer sort key, or rank bits for search
	Str  string `json:"s,omitempty"` // string sort key (last name)
	ID   string `json:"i,omitempty"` // tiebreak: lead id
	PK   int64  `json:"p,omitempty"` // tiebreak for search: internal row key
}

const cursorVersion = 1

func (c cursor) encode() string {
	c.V = cursorVersion
	b, _ := json.Marshal(c) // cannot fail: plain fields
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor parses token and checks it belongs to the query with the
// given kind and hash. An empty token is the first page (nil, nil).
func decodeCursor(token, kind, hash string) (*cursor, error) {
	if token == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, ErrBadPageToken
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, ErrBadPageToken
	}
	if c.V != cursorVersion || c.Kind != kind || c.Hash != hash {
		return nil, ErrBadPageToken
	}
	return &c, nil
}

// fingerprint hashes length-prefixed parts, so ("ab","c") and ("a","bc")
// differ. 64 bits: it guards against a mixed-up token, not an attacker (a
// forged token can only move the cursor within the caller's own tenant).
type fingerprint struct{ b []byte }

func (f *fingerprint) str(s string) {
	f.b = binary.AppendUvarint(f.b, uint64(len(s)))
	f.b = append(f.b, s...)
}

// set adds a set: order and duplicates do not change the query, so they do
// not change the fingerprint either.
func (f *fingerprint) set(vals []string) {
	v := slices.Clone(vals)
	slices.Sort(v)
	v = slices.Compact(v)
	f.str(strconv.Itoa(len(v)))
	for _, s := range v {
		f.str(s)
	}
}

func (f *fingerprint) optInt(p *int) {
	if p == nil {
		f.str("-")
		return
	}
	f.str(strconv.Itoa(*p))
}

func (f *fingerprint) time(t time.Time) { f.str(strconv.FormatInt(timeToDB(t), 10)) }

func (f *fingerprint) sum() string {
	h := sha256.Sum256(f.b)
	return base64.RawURLEncoding.EncodeToString(h[:8])
}
