package readmodel

import (
	"errors"
	"time"
)

// LeadRow is one lead as the read model stores it: the fields ListLeads and
// SearchLeads filter, sort and search on, plus Doc, the opaque full view the
// caller serialises (the API's Lead message) and gets back unchanged.
type LeadRow struct {
	ID     string
	Tenant string

	FirstName string
	LastName  string
	Email     string
	Phone     string
	Company   string
	JobTitle  string
	Country   string
	Region    string
	City      string
	Industry  string

	Source      string
	CampaignID  string
	Owner       string
	Territory   string
	Status      string
	Temperature string

	FitScore        int
	EngagementScore int
	TotalScore      int

	// Tags is a set: duplicates are dropped on Apply, order is kept.
	Tags []string

	CreatedAt time.Time
	UpdatedAt time.Time

	// Version is the aggregate version the row reflects.
	Version uint64
	// Sequence is the stream sequence of the last event applied to the row.
	// Apply ignores an upsert older than the stored row, so replaying a batch
	// is harmless.
	Sequence uint64

	// Doc is stored and returned as is.
	Doc []byte
}

// TenantID names one lead.
type TenantID struct {
	Tenant string
	ID     string
}

var (
	// ErrNotFound: no lead with that tenant and id.
	ErrNotFound = errors.New("readmodel: lead not found")
	// ErrBadPageToken: the page token is malformed, or was issued for
	// another query (other tenant, filters, sort or search text). The API
	// maps it to InvalidArgument on field page_token.
	ErrBadPageToken = errors.New("readmodel: invalid page token")
	// ErrBadPageSize: page size outside 1..MaxPageSize (0 means
	// DefaultPageSize). The API maps it to InvalidArgument on page_size.
	ErrBadPageSize = errors.New("readmodel: page size out of range")
	// ErrBadQuery: a query field the store cannot honour (missing tenant,
	// unknown sort field or direction).
	ErrBadQuery = errors.New("readmodel: invalid query")
	// ErrBadRow: Apply got a row or delete without tenant or id, or an empty
	// stream name. The whole batch is rejected.
	ErrBadRow = errors.New("readmodel: invalid row")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("readmodel: store closed")
)

// Page sizes for List and Search.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

func pageSize(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultPageSize, nil
	case n < 0 || n > MaxPageSize:
		return 0, ErrBadPageSize
	}
	return n, nil
}

// Times are stored as unix nanoseconds; the zero time is stored as 0 so it
// round-trips (time.Time{}.UnixNano is not representable).
func timeToDB(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func timeFromDB(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
