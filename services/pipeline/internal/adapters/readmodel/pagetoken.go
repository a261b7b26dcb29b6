package readmodel

import "github.com/evcrm/evcrm/libs/pagetoken"

// cursor is what a page token carries (libs/pagetoken binds it to its query): the sort key and
// id of the last row of the previous page, a keyset, never an offset.
type cursor struct {
	Kind string `json:"-"`           // "o" opportunities, "p" pipelines, "c" contracts
	Hash string `json:"-"`           // fingerprint of tenant, filters and order
	Str  string `json:"s,omitempty"` // text sort key (a date, a currency)
	N1   int64  `json:"a,omitempty"` // integer sort keys (a time; units and nanos of an amount)
	N2   int64  `json:"b,omitempty"`
	ID   string `json:"i"` // tiebreak
}

func (c cursor) encode() string { return pagetoken.Encode(c.Kind, c.Hash, c) }

// decodeCursor parses token and checks that it was issued for the query of kind and hash. An
// empty token is the first page (nil, nil).
func decodeCursor(token, kind, hash string) (*cursor, error) {
	var c cursor
	ok, err := pagetoken.Decode(token, kind, hash, &c)
	if err != nil || (ok && c.ID == "") {
		return nil, errBadPageToken()
	}
	if !ok {
		return nil, nil
	}
	c.Kind, c.Hash = kind, hash
	return &c, nil
}

type fingerprint = pagetoken.Fingerprint

func intSet[T ~int](f *fingerprint, vals []T) { pagetoken.IntSet(f, vals) }
