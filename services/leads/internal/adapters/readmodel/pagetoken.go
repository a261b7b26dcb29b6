package readmodel

import (
	"time"

	"github.com/evcrm/evcrm/libs/pagetoken"
)

// cursor is what a page token carries (libs/pagetoken binds it to its query): the position
// after the last row of the previous page, a keyset, never an offset.
type cursor struct {
	Kind string `json:"-"`           // "l" list, "s" search
	Hash string `json:"-"`           // fingerprint of tenant + filters + sort / search text
	Int  int64  `json:"n,omitempty"` // integer sort key, or rank bits for search
	Str  string `json:"s,omitempty"` // string sort key (last name)
	ID   string `json:"i,omitempty"` // tiebreak: lead id
	PK   int64  `json:"p,omitempty"` // tiebreak for search: internal row key
}

func (c cursor) encode() string { return pagetoken.Encode(c.Kind, c.Hash, c) }

// decodeCursor parses token and checks it belongs to the query with the
// given kind and hash. An empty token is the first page (nil, nil).
func decodeCursor(token, kind, hash string) (*cursor, error) {
	var c cursor
	ok, err := pagetoken.Decode(token, kind, hash, &c)
	if err != nil {
		return nil, ErrBadPageToken
	}
	if !ok {
		return nil, nil
	}
	c.Kind, c.Hash = kind, hash
	return &c, nil
}

type fingerprint = pagetoken.Fingerprint

func optInt(f *fingerprint, p *int) {
	if p == nil {
		f.Str("-")
		return
	}
	f.Int(int64(*p))
}

func fpTime(f *fingerprint, t time.Time) { f.Int(timeToDB(t)) }
