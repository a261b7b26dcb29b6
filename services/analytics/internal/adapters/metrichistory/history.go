// Package metrichistory is the scripted CRM history the metric tests of chquery (ClickHouse)
// and pgquery (PostgreSQL) read: rows for every analytics table, whose metrics chquery's tests
// work out by hand, and pgquery's compare between the two engines. It is for tests only.
package metrichistory

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Tenant is the Tenant of the history; a few rows of Tenant "t2" copy some of it, which no
// t1 metric may see.
const Tenant = "t1"

// Day returns 2026-mm-dd hh:00 UTC.
func Day(m time.Month, d int, h ...int) time.Time {
	hour := 0
	if len(h) > 0 {
		hour = h[0]
	}
	return time.Date(2026, m, d, hour, 0, 0, 0, time.UTC)
}

// DayS is a day in seconds.
const DayS = int64(86400)

// Never is the time of a step not reached, a row not closed: the epoch.
var Never = time.Unix(0, 0).UTC()

// Table is one table's scripted rows: the named columns and one value list per row.
type Table struct {
	Name string
	Cols string
	Rows [][]any
}

// History is the scripted history every metric test reads. The numbers the tests expect are
// worked out by hand next to them from these rows.
//
// Leads (created; transitions):
//
//	L1 web/C1/u1/T1  Jan 5:  MQL Jan 6, SAL Jan 8, SQL Jan 11, converted Jan 15 (→ K1, A1, O1);
//	                 O1 won Feb 14 (LeadOpportunityWon)
//	L2 web/-/u2/T2   Jan 10: MQL Jan 12, SQL Jan 15 (skips SAL), converted Jan 20 (→ K2, A2, O2);
//	                 O2 lost
//	L3 event/-/u1/T1 Jan 20: MQL Jan 21, disqualified Jan 25
//	L4 web/-/u2/T2   Feb 3:  MQL Mar 20 (45 days after creation)
//	L5 event/-/u1/T1 Feb 10: nothing
//	L6 web           Dec 20, 2025: MQL Jan 2 (outside the range)
//	L7 web/C1        Jan 25: merged into L1 (a duplicate, left out)
//
// Opportunities (EUR unless said; pipeline P1: S1 Qualify, S2 Propose, S3 Negotiate):
//
//	O1 L1/A1/u1/web/C1 10,000 created Jan 15 in S1; S2 Jan 20; S3 Jan 30; won Feb 14 (closed)
//	O2 L2/A2/u2/web     4,000 created Jan 20 in S1; S2 Jan 23; lost Feb 4 (closed)
//	O3 A1/u1/event      6,000 created Feb 1 in S1; S2 Feb 8; open, p 0.5, close Mar 15 (pipeline)
//	O4 u2/web           2,000 created Feb 5 in S1; open, p 0.2, close Mar 31 (best_case)
//	O5 u1/web       3,000 USD created Jan 10; won Feb 20 (other currency: left out)
//	O6 u1/web           5,000 created Mar 1 in S1; won Mar 10 (closed)
//
// Campaigns: C1 "Spring webinar" (webinar), C2 "Newsletter" (email), C3 "Late" (social).
//
//	C1 members: lead L1 Jan 3, lead L2 Jan 11, lead L3 Jan 21, contact K1 Feb 20, lead L9 Apr 5
//	C1 responses: sent L1 Jan 3, L2 Jan 11, L3 Jan 21, K1 Feb 20; opened L1 Jan 4, L2 Jan 12 and
//	   Jan 13; clicked L1 Jan 4 (responded); converted L1 Jan 15 10:00 (responded);
//	   responded L3 Mar 1 (responded)
//	C1 costs: 1,000 EUR Jan 10, 500 EUR Feb 10, 300 USD Feb 11, 200 EUR Apr 2
//	C2 members: lead L2 Jan 5, lead L1 Jan 10; responses: sent L1 Jan 10
//	C3 members: contact K1 Feb 20 (after O1 was created: no influence)
//
// A row of Tenant t2 copies L1 and O1, which no t1 metric may see.
func History() []Table {
	leadCols := "tenant, lead_id, seq, status, source, campaign_id, owner_id, territory_id, created_at, merged_into_id, account_id, " +
		"mql_at, sal_at, sql_at, converted_at, won_at"
	// steps are the times the projector folds into the row (mql, sal, sql, converted, won; Never
	// when not reached): the lead's transitions below, a skipped status reached at the time of
	// the skip, won from the LeadOpportunityWon of its won opportunity.
	lead := func(id string, seq uint64, status, source, campaign, owner, territory string, created time.Time, merged, account string, steps ...time.Time) []any {
		st := [5]time.Time{Never, Never, Never, Never, Never}
		copy(st[:], steps)
		return []any{Tenant, id, seq, status, source, campaign, owner, territory, created, merged, account, st[0], st[1], st[2], st[3], st[4]}
	}
	trCols := "tenant, lead_id, seq, event_id, at, from_status, to_status, lead_created_at"
	tr := func(id string, seq uint64, at time.Time, from, to string, created time.Time) []any {
		return []any{Tenant, id, seq, "e-" + id + "-" + to, at, from, to, created}
	}
	oppCols := "tenant, opportunity_id, seq, pipeline_id, stage_id, stage_name, status, forecast_category, probability, " +
		"amount_micros, currency, owner_id, account_id, lead_id, campaign_id, source, expected_close_date, created_at, closed_at"
	opp := func(id string, seq uint64, stage, status, category string, p float64, amount int64, currency, owner, account, lead, campaign, source string, closeDate, created, closed time.Time) []any {
		return []any{Tenant, id, seq, "P1", stage, map[string]string{"S1": "Qualify", "S2": "Propose", "S3": "Negotiate"}[stage],
			status, category, p, amount * 1_000_000, currency, owner, account, lead, campaign, source, closeDate, created, closed}
	}
	stCols := "tenant, opportunity_id, seq, event_id, at, pipeline_id, from_stage_id, from_stage_name, to_stage_id, " +
		"to_stage_name, outcome, time_in_stage_s, owner_id, source, campaign_id"
	names := map[string]string{"S1": "Qualify", "S2": "Propose", "S3": "Negotiate", "": ""}
	st := func(id string, seq uint64, at time.Time, from, to, outcome string, inStage int64, owner, source string) []any {
		return []any{Tenant, id, seq, "e-" + id + "-" + outcome + to, at, "P1", from, names[from], to, names[to], outcome,
			inStage * DayS, owner, source, ""}
	}
	memberCols := "tenant, campaign_id, member_type, person_id, member_id, seq, added_at, status"
	member := func(campaign, typ, person string, seq uint64, added time.Time) []any {
		return []any{Tenant, campaign, typ, person, "M-" + campaign + "-" + person, seq, added, "sent"}
	}
	respCols := "tenant, campaign_id, seq, event_id, member_type, person_id, at, kind, responded"
	resp := func(campaign string, seq uint64, typ, person string, at time.Time, kind string, responded uint8) []any {
		return []any{Tenant, campaign, seq, "r-" + campaign + "-" + person + "-" + kind, typ, person, at, kind, responded}
	}
	costCols := "tenant, campaign_id, seq, event_id, date, at, amount_micros, currency"
	cost := func(campaign string, seq uint64, date time.Time, amount int64, currency string) []any {
		return []any{Tenant, campaign, seq, "c-" + campaign, date, date, amount * 1_000_000, currency}
	}
	return []Table{
		{"leads", leadCols, [][]any{
			lead("L1", 1, "new", "web", "C1", "u1", "T1", Day(1, 5), "", ""), // an older version
			lead("L1", 20, "converted", "web", "C1", "u1", "T1", Day(1, 5), "", "A1", Day(1, 6), Day(1, 8), Day(1, 11), Day(1, 15), Day(2, 14)),
			lead("L2", 21, "converted", "web", "", "u2", "T2", Day(1, 10), "", "A2", Day(1, 12), Day(1, 15), Day(1, 15), Day(1, 20)),
			lead("L3", 22, "disqualified", "event", "", "u1", "T1", Day(1, 20), "", "", Day(1, 21)),
			lead("L4", 23, "marketing_qualified", "web", "", "u2", "T2", Day(2, 3), "", "", Day(3, 20)),
			lead("L5", 24, "new", "event", "", "u1", "T1", Day(2, 10), "", ""),
			lead("L6", 25, "marketing_qualified", "web", "", "u1", "T1", time.Date(2025, 12, 20, 0, 0, 0, 0, time.UTC), "", "", Day(1, 2)),
			lead("L7", 26, "new", "web", "C1", "u1", "T1", Day(1, 25), "L1", ""),
			{"t2", "L1", uint64(1), "new", "web", "C1", "u1", "T1", Day(1, 5), "", "", Day(1, 6), Never, Never, Never, Never},
		}},
		{"lead_transitions", trCols, [][]any{
			tr("L1", 2, Day(1, 6), "new", "marketing_qualified", Day(1, 5)),
			tr("L1", 3, Day(1, 8), "marketing_qualified", "sales_accepted", Day(1, 5)),
			tr("L1", 4, Day(1, 11), "sales_accepted", "sales_qualified", Day(1, 5)),
			tr("L1", 5, Day(1, 15), "sales_qualified", "converted", Day(1, 5)),
			tr("L2", 6, Day(1, 12), "new", "marketing_qualified", Day(1, 10)),
			tr("L2", 7, Day(1, 15), "marketing_qualified", "sales_qualified", Day(1, 10)),
			tr("L2", 8, Day(1, 20), "sales_qualified", "converted", Day(1, 10)),
			tr("L3", 9, Day(1, 21), "new", "marketing_qualified", Day(1, 20)),
			tr("L3", 10, Day(1, 25), "marketing_qualified", "disqualified", Day(1, 20)),
			tr("L4", 11, Day(3, 20), "new", "marketing_qualified", Day(2, 3)),
			tr("L6", 12, Day(1, 2), "new", "marketing_qualified", time.Date(2025, 12, 20, 0, 0, 0, 0, time.UTC)),
			{"t2", "L1", uint64(2), "x", Day(1, 6), "new", "marketing_qualified", Day(1, 5)},
		}},
		{"conversions", "tenant, lead_id, seq, at, account_id, contact_id, opportunity_id", [][]any{
			{Tenant, "L1", uint64(5), Day(1, 15), "A1", "K1", "O1"},
			{Tenant, "L2", uint64(8), Day(1, 20), "A2", "K2", "O2"},
		}},
		{"contacts", "tenant, contact_id, seq, account_id, source_lead_id, created_at", [][]any{
			{Tenant, "K1", uint64(5), "A1", "L1", Day(1, 15)},
			{Tenant, "K2", uint64(8), "A2", "L2", Day(1, 20)},
		}},
		{"opportunities", oppCols, [][]any{
			opp("O1", 30, "S3", "open", "commit", 0.8, 9_000, "EUR", "u1", "A1", "L1", "C1", "web", Day(2, 28), Day(1, 15), Never),
			opp("O1", 33, "S3", "won", "closed", 1, 10_000, "EUR", "u1", "A1", "L1", "C1", "web", Day(2, 14), Day(1, 15), Day(2, 14)),
			opp("O2", 34, "S2", "lost", "omitted", 0, 4_000, "EUR", "u2", "A2", "L2", "", "web", Day(2, 4), Day(1, 20), Day(2, 4)),
			opp("O3", 35, "S2", "open", "pipeline", 0.5, 6_000, "EUR", "u1", "A1", "", "", "event", Day(3, 15), Day(2, 1), Never),
			opp("O4", 36, "S1", "open", "best_case", 0.2, 2_000, "EUR", "u2", "", "", "", "web", Day(3, 31), Day(2, 5), Never),
			opp("O5", 37, "S1", "won", "closed", 1, 3_000, "USD", "u1", "", "", "", "web", Day(2, 20), Day(1, 10), Day(2, 20)),
			opp("O6", 38, "S1", "won", "closed", 1, 5_000, "EUR", "u1", "", "", "", "web", Day(3, 10), Day(3, 1), Day(3, 10)),
			{"t2", "O1", uint64(1), "P1", "S1", "Qualify", "won", "closed", 1.0, int64(1e12), "EUR", "u1", "A1", "L1", "C1", "web", Day(2, 14), Day(1, 15), Day(2, 14)},
		}},
		{"stage_transitions", stCols, [][]any{
			st("O1", 40, Day(1, 15), "", "S1", "created", 0, "u1", "web"),
			st("O1", 41, Day(1, 20), "S1", "S2", "forward", 5, "u1", "web"),
			st("O1", 42, Day(1, 30), "S2", "S3", "forward", 10, "u1", "web"),
			st("O1", 43, Day(2, 14), "S3", "", "won", 15, "u1", "web"),
			st("O2", 44, Day(1, 20), "", "S1", "created", 0, "u2", "web"),
			st("O2", 45, Day(1, 23), "S1", "S2", "forward", 3, "u2", "web"),
			st("O2", 46, Day(2, 4), "S2", "", "lost", 12, "u2", "web"),
			st("O3", 47, Day(2, 1), "", "S1", "created", 0, "u1", "event"),
			st("O3", 48, Day(2, 8), "S1", "S2", "forward", 7, "u1", "event"),
			st("O4", 49, Day(2, 5), "", "S1", "created", 0, "u2", "web"),
			st("O6", 50, Day(3, 1), "", "S1", "created", 0, "u1", "web"),
			st("O6", 51, Day(3, 10), "S1", "", "won", 9, "u1", "web"),
		}},
		{"campaigns", "tenant, campaign_id, seq, name, channel, status, currency", [][]any{
			{Tenant, "C1", uint64(60), "Spring", "webinar", "planned", "EUR"},
			{Tenant, "C1", uint64(61), "Spring webinar", "webinar", "active", "EUR"},
			{Tenant, "C2", uint64(62), "Newsletter", "email", "active", "EUR"},
			{Tenant, "C3", uint64(63), "Late", "social", "active", "EUR"},
		}},
		{"members", memberCols, [][]any{
			member("C1", "lead", "L1", 70, Day(1, 3)),
			member("C1", "lead", "L2", 71, Day(1, 11)),
			member("C1", "lead", "L3", 72, Day(1, 21)),
			member("C1", "contact", "K1", 73, Day(2, 20)),
			member("C1", "lead", "L9", 74, Day(4, 5)),
			member("C2", "lead", "L2", 75, Day(1, 5)),
			member("C2", "lead", "L1", 76, Day(1, 10)),
			member("C3", "contact", "K1", 77, Day(2, 20)),
		}},
		{"responses", respCols, [][]any{
			resp("C1", 80, "lead", "L1", Day(1, 3), "sent", 0),
			resp("C1", 81, "lead", "L2", Day(1, 11), "sent", 0),
			resp("C1", 82, "lead", "L3", Day(1, 21), "sent", 0),
			resp("C1", 83, "contact", "K1", Day(2, 20), "sent", 0),
			resp("C1", 84, "lead", "L1", Day(1, 4), "opened", 0),
			resp("C1", 85, "lead", "L2", Day(1, 12), "opened", 0),
			resp("C1", 86, "lead", "L2", Day(1, 13), "opened", 0),
			resp("C1", 87, "lead", "L1", Day(1, 4, 1), "clicked", 1),
			resp("C1", 88, "lead", "L1", Day(1, 15, 10), "converted", 1),
			resp("C1", 89, "lead", "L3", Day(3, 1), "responded", 1),
			resp("C2", 90, "lead", "L1", Day(1, 10), "sent", 0),
		}},
		{"costs", costCols, [][]any{
			cost("C1", 91, Day(1, 10), 1_000, "EUR"),
			cost("C1", 92, Day(2, 10), 500, "EUR"),
			cost("C1", 93, Day(2, 11), 300, "USD"),
			cost("C1", 94, Day(4, 2), 200, "EUR"),
		}},
		{"events", "tenant, stream, seq, event_id, aggregate_type, aggregate_id, event_type, occurred_at, actor, payload_json", [][]any{
			event(1, "CRM_LEADS", "lead", "L1", "LeadCreated", Day(1, 5)),
			event(5, "CRM_LEADS", "lead", "L1", "LeadConverted", Day(1, 15)),
			event(6, "CRM_LEADS", "account", "A1", "AccountCreated", Day(1, 15)),
			event(7, "CRM_LEADS", "contact", "K1", "ContactCreated", Day(1, 15)),
			event(3, "CRM_PIPELINE", "opportunity", "O1", "OpportunityCreated", Day(1, 15)),
			event(9, "CRM_PIPELINE", "opportunity", "O1", "OpportunityWon", Day(2, 14)),
			event(10, "CRM_PIPELINE", "opportunity", "O3", "OpportunityCreated", Day(2, 1)),
			event(4, "CRM_CAMPAIGN", "member", "M-C1-L1", "CampaignMemberAdded", Day(1, 3)),
			event(8, "CRM_CAMPAIGN", "member", "M-C1-K1", "CampaignMemberAdded", Day(2, 20)),
			event(2, "CRM_LEADS", "lead", "L2", "LeadCreated", Day(1, 10)),                   // another account's
			event(11, "CRM_PIPELINE", "opportunity", "O2", "OpportunityCreated", Day(1, 20)), // another account's
			{"t2", "CRM_LEADS", uint64(1), "x", "account", "A1", "AccountCreated", Day(3, 1), "u", "{}"},
		}},
	}
}

func event(seq uint64, stream, aggType, aggID, typ string, at time.Time) []any {
	return []any{Tenant, stream, seq, stream + "-" + aggID + "-" + typ, aggType, aggID, typ, at, "u1", `{"id":"` + aggID + `"}`}
}

// Insert writes tb into conn's database in one INSERT (18.16 needs the columns named).
func Insert(ctx context.Context, t testing.TB, conn driver.Conn, tb Table) {
	t.Helper()
	if len(tb.Rows) == 0 {
		return
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+tb.Name+" ("+tb.Cols+")")
	if err != nil {
		t.Fatalf("prepare %s: %v", tb.Name, err)
	}
	n := len(strings.Split(tb.Cols, ","))
	for _, r := range tb.Rows {
		if len(r) != n {
			t.Fatalf("%s: row %v has %d values for %d columns", tb.Name, r, len(r), n)
		}
		if err := b.Append(r...); err != nil {
			t.Fatalf("append %s %v: %v", tb.Name, r, err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatalf("send %s: %v", tb.Name, err)
	}
}
