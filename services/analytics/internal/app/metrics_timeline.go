package app

import (
	"context"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/pagetoken"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chquery"
)

// TimelineQuery asks for one page of an account's 360° view.
type TimelineQuery struct {
	AccountID string
	// PageSize is 1 to 1000; 0 means 50.
	PageSize  int32
	PageToken string
}

// TimelineEvent is one event of the view.
type TimelineEvent struct {
	At                                             time.Time
	Stream                                         string
	Sequence                                       uint64
	EventID, EventType, AggregateType, AggregateID string
	Actor, PayloadJSON                             string
}

// TimelinePage is one page, newest first; NextPageToken is "" on the last page.
type TimelinePage struct {
	Events        []TimelineEvent
	NextPageToken string
}

// timelineCursor is the keyset position a page token carries: the last event served.
type timelineCursor struct {
	At     int64  `json:"t"`
	Stream string `json:"s"`
	Seq    uint64 `json:"q"`
}

// Timeline returns a page of the account's events: its own, its contacts', the leads converted
// into it, its opportunities' and its people's campaign memberships.
func (a *App) Timeline(ctx context.Context, tenant string, q TimelineQuery) (TimelinePage, error) {
	var v apperr.Violations
	if q.AccountID == "" || len(q.AccountID) > maxAccountIDLen {
		v.Add("account_id", "required, at most %d bytes", maxAccountIDLen)
	}
	size := int(q.PageSize)
	switch {
	case size == 0:
		size = defaultPageSize
	case size < 0 || size > maxPageSize:
		v.Add("page_size", "1 to %d", maxPageSize)
	}
	// The token is bound to the tenant and the account: one issued for another account is
	// refused instead of starting that account's view in the middle.
	var fp pagetoken.Fingerprint
	fp.Str(tenant)
	fp.Str(q.AccountID)
	hash := fp.Sum()
	var cur timelineCursor
	var after *chquery.Cursor
	if ok, err := pagetoken.Decode(q.PageToken, timelineTokenKey, hash, &cur); err != nil {
		v.Add("page_token", "malformed, or issued for another query")
	} else if ok {
		after = &chquery.Cursor{At: time.Unix(cur.At, 0).UTC(), Stream: cur.Stream, Seq: cur.Seq}
	}
	if err := v.Err("invalid timeline query"); err != nil {
		return TimelinePage{}, err
	}
	// One more than the page: it says whether a next page exists.
	rows, err := chquery.Timeline(ctx, a.d.ClickHouse, tenant, q.AccountID, after, size+1)
	if err != nil {
		return TimelinePage{}, err
	}
	var page TimelinePage
	if len(rows) > size {
		rows = rows[:size]
		last := rows[size-1]
		page.NextPageToken = pagetoken.Encode(timelineTokenKey, hash,
			timelineCursor{At: last.At.Unix(), Stream: last.Stream, Seq: last.Seq})
	}
	page.Events = make([]TimelineEvent, 0, len(rows))
	for _, r := range rows {
		page.Events = append(page.Events, TimelineEvent{At: r.At, Stream: r.Stream, Sequence: r.Seq, EventID: r.EventID,
			EventType: r.EventType, AggregateType: r.AggregateType, AggregateID: r.AggregateID, Actor: r.Actor,
			PayloadJSON: r.PayloadJSON})
	}
	return page, nil
}
