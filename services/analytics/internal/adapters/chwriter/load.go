package chwriter

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
)

// memberKey is the members table key of a member event ("" for other events).
func memberKey(d decoded) (campaignID, memberType, personID string) {
	switch p := d.msg.(type) {
	case *campaignv1.CampaignMemberAdded:
		m := p.GetMember()
		return m.GetCampaignId(), enumName(m.GetType()), m.GetPersonId()
	case *campaignv1.CampaignMemberResponded:
		return p.GetCampaignId(), enumName(p.GetMemberType()), p.GetPersonId()
	}
	return "", "", ""
}

// idSet collects the tenants and ids a lookup asks for.
type idSet struct{ tenants, ids, extra map[string]bool }

func (s *idSet) add(tenant, id, extra string) {
	if s.tenants == nil {
		s.tenants, s.ids, s.extra = map[string]bool{}, map[string]bool{}, map[string]bool{}
	}
	s.tenants[tenant], s.ids[id] = true, true
	if extra != "" {
		s.extra[extra] = true
	}
}

// load puts into the batch the current rows of the aggregates ds touch: the cached copy when
// the writer has one, else the row read from ClickHouse. Rows are read with FINAL, so the
// newest row of each key wins even before ClickHouse has merged the parts.
func (b *batch) load(ctx context.Context, ds []decoded) error {
	var leads, contacts, opps, camps, members idSet
	seen := map[string]bool{} // rows decided by an earlier event of the batch
	for _, d := range ds {
		table, k := rowKey(d)
		if table == "" || seen[table+"\x00"+k] {
			continue
		}
		seen[table+"\x00"+k] = true
		if !b.w.mustRead(table, k) {
			if r := b.w.cache.get(table, k); r != nil {
				b.put(table, k, r)
				b.unread[table+"\x00"+k] = true
				continue
			}
			if d.Envelope.GetAggregateVersion() == 1 {
				// The aggregate's first event in the batch creates it: nothing to read. If
				// this is a replay and ClickHouse has a later row, the row folded here carries
				// a lower sequence and loses to it; like a cached row it is not trusted across
				// a version gap (see step).
				b.unread[table+"\x00"+k] = true
				continue
			}
		}
		t, id := d.Envelope.GetTenantId(), d.Envelope.GetAggregateId()
		switch table {
		case "leads":
			leads.add(t, id, "")
		case "contacts":
			contacts.add(t, id, "")
		case "opportunities":
			opps.add(t, id, "")
		case "campaigns":
			camps.add(t, id, "")
		case "members":
			c, _, p := memberKey(d)
			members.add(t, c, p)
		}
	}
	conn := b.w.conn
	if err := loadRows(ctx, conn, "leads", leadsColumns, "lead_id", leads, func() (any, []any) {
		r := &lead{}
		return r, r.ptrs()
	}, func(v any) { r := v.(*lead); b.putNew("leads", key(r.Tenant, r.LeadID), r) }); err != nil {
		return err
	}
	if err := loadRows(ctx, conn, "contacts", contactsColumns, "contact_id", contacts, func() (any, []any) {
		r := &contact{}
		return r, r.ptrs()
	}, func(v any) { r := v.(*contact); b.putNew("contacts", key(r.Tenant, r.ContactID), r) }); err != nil {
		return err
	}
	if err := loadRows(ctx, conn, "opportunities", opportunitiesColumns, "opportunity_id", opps, func() (any, []any) {
		r := &opportunity{}
		return r, r.ptrs()
	}, func(v any) { r := v.(*opportunity); b.putNew("opportunities", key(r.Tenant, r.OpportunityID), r) }); err != nil {
		return err
	}
	if err := loadRows(ctx, conn, "campaigns", campaignsColumns, "campaign_id", camps, func() (any, []any) {
		r := &campaign{}
		return r, r.ptrs()
	}, func(v any) { r := v.(*campaign); b.putNew("campaigns", key(r.Tenant, r.CampaignID), r) }); err != nil {
		return err
	}
	return loadRows(ctx, conn, "members", membersColumns, "campaign_id", members, func() (any, []any) {
		r := &member{}
		return r, r.ptrs()
	}, func(v any) {
		r := v.(*member)
		b.putNew("members", key(r.Tenant, r.CampaignID, r.MemberType, r.PersonID), r)
	})
}

// has reports whether the batch already holds the row of table's key.
func (b *batch) has(table, k string) bool {
	switch table {
	case "leads":
		return b.leads[k] != nil
	case "contacts":
		return b.contacts[k] != nil
	case "opportunities":
		return b.opps[k] != nil
	case "campaigns":
		return b.camps[k] != nil
	case "members":
		return b.members[k] != nil
	}
	return false
}

// putNew puts a row read from ClickHouse into the batch unless the batch has that key: the IN
// lists of loadRows can let through rows of other tenant/id pairs whose cached copy the batch
// took already (if that copy is stale, the next event's version gap makes the writer forget
// it).
func (b *batch) putNew(table, k string, r any) {
	if !b.has(table, k) {
		b.put(table, k, r)
	}
}

// put puts a row (a *lead, *contact, ... matching table) into the batch.
func (b *batch) put(table, k string, r any) {
	switch table {
	case "leads":
		b.leads[k] = r.(*lead)
	case "contacts":
		b.contacts[k] = r.(*contact)
	case "opportunities":
		b.opps[k] = r.(*opportunity)
	case "campaigns":
		b.camps[k] = r.(*campaign)
	case "members":
		b.members[k] = r.(*member)
	}
}

// loadRows selects the rows of table whose tenant and idColumn are in set (and, for members,
// whose person_id is in set.extra); rows of other tenant/id pairs that the IN lists let through
// are harmless, they are simply not touched.
func loadRows(ctx context.Context, conn driver.Conn, table string, cols []string, idColumn string, set idSet, newRow func() (any, []any), put func(any)) error {
	if len(set.ids) == 0 {
		return nil
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + table + " FINAL WHERE tenant IN (" +
		literals(set.tenants) + ") AND " + idColumn + " IN (" + literals(set.ids) + ")"
	if len(set.extra) > 0 {
		q += " AND person_id IN (" + literals(set.extra) + ")"
	}
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, ptrs := newRow()
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("scan %s: %w", table, err)
		}
		put(r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	return nil
}

// literals renders a set as a sorted list of SQL string literals. Literals rather than bound
// parameters: 18.16 has no server-side parameters, and the values are quoted here.
func literals(set map[string]bool) string {
	vals := make([]string, 0, len(set))
	for v := range set {
		vals = append(vals, Quote(v))
	}
	sort.Strings(vals)
	return strings.Join(vals, ", ")
}

var quoter = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

// Quote renders s as a ClickHouse string literal.
func Quote(s string) string { return "'" + quoter.Replace(s) + "'" }
