package chwriter

import (
	lru "github.com/hashicorp/golang-lru/v2"
)

// DefaultCacheRows is Options.CacheRows when zero.
const DefaultCacheRows = 20_000

// rowCache remembers the current-state rows this writer read from or wrote to ClickHouse, so
// that the next batch touching an aggregate folds onto the remembered row instead of reading
// it back with FINAL (which, per batch, cost as much as the inserts).
//
// A remembered row is always a correct fold: it is the state after exactly the events up to
// its version, and versions of an aggregate are unique. It may only be stale, when another
// replica sharing the consumer has written a later version since. Then the next event's
// version leaves a gap after the remembered one, the writer holds the event (ErrOutOfOrder)
// and forgets the row, and the redelivery reads the row from ClickHouse again. A row that an
// event could replay onto (version ≥ the event's) is skipped exactly as a row read from
// ClickHouse would be. Rows enter the cache only after ClickHouse accepted their batch, so a
// failed insert, which is retried whole, never finds its own events already folded.
type rowCache struct{ c *lru.Cache[string, any] }

func newRowCache(size int) *rowCache {
	c, err := lru.New[string, any](size)
	if err != nil { // only for size ≤ 0, which New rules out
		panic(err)
	}
	return &rowCache{c: c}
}

// get returns a copy of the remembered row of table's key, as a pointer the batch may fold
// onto, or nil.
func (rc *rowCache) get(table, k string) any {
	v, ok := rc.c.Get(table + "\x00" + k)
	if !ok {
		return nil
	}
	switch r := v.(type) {
	case lead:
		return &r
	case opportunity:
		return &r
	case campaign:
		return &r
	case member:
		return &r
	case contact:
		return &r
	}
	return nil
}

func (rc *rowCache) forget(table, k string) { rc.c.Remove(table + "\x00" + k) }

// remember stores copies of the batch's rows once ClickHouse holds them. It leaves out rows
// still at version 0 (an aggregate whose first event is held: ClickHouse has no such row) and
// the rows of held aggregates, whose redelivery must read ClickHouse, where another replica
// may have written the versions in between.
func (rc *rowCache) remember(b *batch) {
	put := func(table, k string, version uint64, row any) {
		if version > 0 && !b.held[table+"\x00"+k] {
			rc.c.Add(table+"\x00"+k, row)
		}
	}
	for k, r := range b.leads {
		put("leads", k, r.Version, *r)
	}
	for k, r := range b.opps {
		put("opportunities", k, r.Version, *r)
	}
	for k, r := range b.camps {
		put("campaigns", k, r.Version, *r)
	}
	for k, r := range b.members {
		put("members", k, r.Version, *r)
	}
	for k, r := range b.contacts {
		put("contacts", k, r.Version, *r)
	}
}

// rowKey is the current-state table and key of the row d folds into ("" for events that
// fold into none).
func rowKey(d decoded) (table, k string) {
	t, id := d.Envelope.GetTenantId(), d.Envelope.GetAggregateId()
	switch d.Envelope.GetAggregateType() {
	case "lead":
		return "leads", key(t, id)
	case "contact":
		return "contacts", key(t, id)
	case "opportunity":
		return "opportunities", key(t, id)
	case "campaign":
		return "campaigns", key(t, id)
	case "member":
		if c, mt, p := memberKey(d); c != "" {
			return "members", key(t, c, mt, p)
		}
	}
	return "", ""
}
