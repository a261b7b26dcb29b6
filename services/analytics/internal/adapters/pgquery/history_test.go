package pgquery_test

// A copy of chquery's scripted history (chquery/history_test.go, which a test of another
// package cannot import), so that the comparison runs on the rows whose numbers chquery's tests
// work out by hand. The comparison does not depend on the copy staying in step: both engines
// read whatever is inserted.

import (
	"time"
)

const tenant = "t1"

// day returns 2026-mm-dd hh:00 UTC.
func day(m time.Month, d int, h ...int) time.Time {
	hour := 0
	if len(h) > 0 {
		hour = h[0]
	}
	return time.Date(2026, m, d, hour, 0, 0, 0, time.UTC)
}

const dayS = int64(86400)

var never = time.Unix(0, 0).UTC()

// table is one table's scripted rows: the named columns and one value list per row.
type table struct {
	name string
	cols string
	rows [][]any
}

// history is the scripted history every metric test reads. The numbers the tests expect are
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
// A row of tenant t2 copies L1 and O1, which no t1 metric may see.
func history() []table {
	leadCols := "tenant, lead_id, seq, status, source, campaign_id, owner_id, territory_id, created_at, merged_into_id, account_id, " +
		"mql_at, sal_at, sql_at, converted_at, won_at"
	// steps are the times the projector folds into the row (mql, sal, sql, converted, won; never
	// when not reached): the lead's transitions below, a skipped status reached at the time of
	// the skip, won from the LeadOpportunityWon of its won opportunity.
	lead := func(id string, seq uint64, status, source, campaign, owner, territory string, created time.Time, merged, account string, steps ...time.Time) []any {
		st := [5]time.Time{never, never, never, never, never}
		copy(st[:], steps)
		return []any{tenant, id, seq, status, source, campaign, owner, territory, created, merged, account, st[0], st[1], st[2], st[3], st[4]}
	}
	trCols := "tenant, lead_id, seq, event_id, at, from_status, to_status, lead_created_at"
	tr := func(id string, seq uint64, at time.Time, from, to string, created time.Time) []any {
		return []any{tenant, id, seq, "e-" + id + "-" + to, at, from, to, created}
	}
	oppCols := "tenant, opportunity_id, seq, pipeline_id, stage_id, stage_name, status, forecast_category, probability, " +
		"amount_micros, currency, owner_id, account_id, lead_id, campaign_id, source, expected_close_date, created_at, closed_at"
	opp := func(id string, seq uint64, stage, status, category string, p float64, amount int64, currency, owner, account, lead, campaign, source string, closeDate, created, closed time.Time) []any {
		return []any{tenant, id, seq, "P1", stage, map[string]string{"S1": "Qualify", "S2": "Propose", "S3": "Negotiate"}[stage],
			status, category, p, amount * 1_000_000, currency, owner, account, lead, campaign, source, closeDate, created, closed}
	}
	stCols := "tenant, opportunity_id, seq, event_id, at, pipeline_id, from_stage_id, from_stage_name, to_stage_id, " +
		"to_stage_name, outcome, time_in_stage_s, owner_id, source, campaign_id"
	names := map[string]string{"S1": "Qualify", "S2": "Propose", "S3": "Negotiate", "": ""}
	st := func(id string, seq uint64, at time.Time, from, to, outcome string, inStage int64, owner, source string) []any {
		return []any{tenant, id, seq, "e-" + id + "-" + outcome + to, at, "P1", from, names[from], to, names[to], outcome,
			inStage * dayS, owner, source, ""}
	}
	memberCols := "tenant, campaign_id, member_type, person_id, member_id, seq, added_at, status"
	member := func(campaign, typ, person string, seq uint64, added time.Time) []any {
		return []any{tenant, campaign, typ, person, "M-" + campaign + "-" + person, seq, added, "sent"}
	}
	respCols := "tenant, campaign_id, seq, event_id, member_type, person_id, at, kind, responded"
	resp := func(campaign string, seq uint64, typ, person string, at time.Time, kind string, responded uint8) []any {
		return []any{tenant, campaign, seq, "r-" + campaign + "-" + person + "-" + kind, typ, person, at, kind, responded}
	}
	costCols := "tenant, campaign_id, seq, event_id, date, at, amount_micros, currency"
	cost := func(campaign string, seq uint64, date time.Time, amount int64, currency string) []any {
		return []any{tenant, campaign, seq, "c-" + campaign, date, date, amount * 1_000_000, currency}
	}
	return []table{
		{"leads", leadCols, [][]any{
			lead("L1", 1, "new", "web", "C1", "u1", "T1", day(1, 5), "", ""), // an older version
			lead("L1", 20, "converted", "web", "C1", "u1", "T1", day(1, 5), "", "A1", day(1, 6), day(1, 8), day(1, 11), day(1, 15), day(2, 14)),
			lead("L2", 21, "converted", "web", "", "u2", "T2", day(1, 10), "", "A2", day(1, 12), day(1, 15), day(1, 15), day(1, 20)),
			lead("L3", 22, "disqualified", "event", "", "u1", "T1", day(1, 20), "", "", day(1, 21)),
			lead("L4", 23, "marketing_qualified", "web", "", "u2", "T2", day(2, 3), "", "", day(3, 20)),
			lead("L5", 24, "new", "event", "", "u1", "T1", day(2, 10), "", ""),
			lead("L6", 25, "marketing_qualified", "web", "", "u1", "T1", time.Date(2025, 12, 20, 0, 0, 0, 0, time.UTC), "", "", day(1, 2)),
			lead("L7", 26, "new", "web", "C1", "u1", "T1", day(1, 25), "L1", ""),
			{"t2", "L1", uint64(1), "new", "web", "C1", "u1", "T1", day(1, 5), "", "", day(1, 6), never, never, never, never},
		}},
		{"lead_transitions", trCols, [][]any{
			tr("L1", 2, day(1, 6), "new", "marketing_qualified", day(1, 5)),
			tr("L1", 3, day(1, 8), "marketing_qualified", "sales_accepted", day(1, 5)),
			tr("L1", 4, day(1, 11), "sales_accepted", "sales_qualified", day(1, 5)),
			tr("L1", 5, day(1, 15), "sales_qualified", "converted", day(1, 5)),
			tr("L2", 6, day(1, 12), "new", "marketing_qualified", day(1, 10)),
			tr("L2", 7, day(1, 15), "marketing_qualified", "sales_qualified", day(1, 10)),
			tr("L2", 8, day(1, 20), "sales_qualified", "converted", day(1, 10)),
			tr("L3", 9, day(1, 21), "new", "marketing_qualified", day(1, 20)),
			tr("L3", 10, day(1, 25), "marketing_qualified", "disqualified", day(1, 20)),
			tr("L4", 11, day(3, 20), "new", "marketing_qualified", day(2, 3)),
			tr("L6", 12, day(1, 2), "new", "marketing_qualified", time.Date(2025, 12, 20, 0, 0, 0, 0, time.UTC)),
			{"t2", "L1", uint64(2), "x", day(1, 6), "new", "marketing_qualified", day(1, 5)},
		}},
		{"conversions", "tenant, lead_id, seq, at, account_id, contact_id, opportunity_id", [][]any{
			{tenant, "L1", uint64(5), day(1, 15), "A1", "K1", "O1"},
			{tenant, "L2", uint64(8), day(1, 20), "A2", "K2", "O2"},
		}},
		{"contacts", "tenant, contact_id, seq, account_id, source_lead_id, created_at", [][]any{
			{tenant, "K1", uint64(5), "A1", "L1", day(1, 15)},
			{tenant, "K2", uint64(8), "A2", "L2", day(1, 20)},
		}},
		{"opportunities", oppCols, [][]any{
			opp("O1", 30, "S3", "open", "commit", 0.8, 9_000, "EUR", "u1", "A1", "L1", "C1", "web", day(2, 28), day(1, 15), never),
			opp("O1", 33, "S3", "won", "closed", 1, 10_000, "EUR", "u1", "A1", "L1", "C1", "web", day(2, 14), day(1, 15), day(2, 14)),
			opp("O2", 34, "S2", "lost", "omitted", 0, 4_000, "EUR", "u2", "A2", "L2", "", "web", day(2, 4), day(1, 20), day(2, 4)),
			opp("O3", 35, "S2", "open", "pipeline", 0.5, 6_000, "EUR", "u1", "A1", "", "", "event", day(3, 15), day(2, 1), never),
			opp("O4", 36, "S1", "open", "best_case", 0.2, 2_000, "EUR", "u2", "", "", "", "web", day(3, 31), day(2, 5), never),
			opp("O5", 37, "S1", "won", "closed", 1, 3_000, "USD", "u1", "", "", "", "web", day(2, 20), day(1, 10), day(2, 20)),
			opp("O6", 38, "S1", "won", "closed", 1, 5_000, "EUR", "u1", "", "", "", "web", day(3, 10), day(3, 1), day(3, 10)),
			{"t2", "O1", uint64(1), "P1", "S1", "Qualify", "won", "closed", 1.0, int64(1e12), "EUR", "u1", "A1", "L1", "C1", "web", day(2, 14), day(1, 15), day(2, 14)},
		}},
		{"stage_transitions", stCols, [][]any{
			st("O1", 40, day(1, 15), "", "S1", "created", 0, "u1", "web"),
			st("O1", 41, day(1, 20), "S1", "S2", "forward", 5, "u1", "web"),
			st("O1", 42, day(1, 30), "S2", "S3", "forward", 10, "u1", "web"),
			st("O1", 43, day(2, 14), "S3", "", "won", 15, "u1", "web"),
			st("O2", 44, day(1, 20), "", "S1", "created", 0, "u2", "web"),
			st("O2", 45, day(1, 23), "S1", "S2", "forward", 3, "u2", "web"),
			st("O2", 46, day(2, 4), "S2", "", "lost", 12, "u2", "web"),
			st("O3", 47, day(2, 1), "", "S1", "created", 0, "u1", "event"),
			st("O3", 48, day(2, 8), "S1", "S2", "forward", 7, "u1", "event"),
			st("O4", 49, day(2, 5), "", "S1", "created", 0, "u2", "web"),
			st("O6", 50, day(3, 1), "", "S1", "created", 0, "u1", "web"),
			st("O6", 51, day(3, 10), "S1", "", "won", 9, "u1", "web"),
		}},
		{"campaigns", "tenant, campaign_id, seq, name, channel, status, currency", [][]any{
			{tenant, "C1", uint64(60), "Spring", "webinar", "planned", "EUR"},
			{tenant, "C1", uint64(61), "Spring webinar", "webinar", "active", "EUR"},
			{tenant, "C2", uint64(62), "Newsletter", "email", "active", "EUR"},
			{tenant, "C3", uint64(63), "Late", "social", "active", "EUR"},
		}},
		{"members", memberCols, [][]any{
			member("C1", "lead", "L1", 70, day(1, 3)),
			member("C1", "lead", "L2", 71, day(1, 11)),
			member("C1", "lead", "L3", 72, day(1, 21)),
			member("C1", "contact", "K1", 73, day(2, 20)),
			member("C1", "lead", "L9", 74, day(4, 5)),
			member("C2", "lead", "L2", 75, day(1, 5)),
			member("C2", "lead", "L1", 76, day(1, 10)),
			member("C3", "contact", "K1", 77, day(2, 20)),
		}},
		{"responses", respCols, [][]any{
			resp("C1", 80, "lead", "L1", day(1, 3), "sent", 0),
			resp("C1", 81, "lead", "L2", day(1, 11), "sent", 0),
			resp("C1", 82, "lead", "L3", day(1, 21), "sent", 0),
			resp("C1", 83, "contact", "K1", day(2, 20), "sent", 0),
			resp("C1", 84, "lead", "L1", day(1, 4), "opened", 0),
			resp("C1", 85, "lead", "L2", day(1, 12), "opened", 0),
			resp("C1", 86, "lead", "L2", day(1, 13), "opened", 0),
			resp("C1", 87, "lead", "L1", day(1, 4, 1), "clicked", 1),
			resp("C1", 88, "lead", "L1", day(1, 15, 10), "converted", 1),
			resp("C1", 89, "lead", "L3", day(3, 1), "responded", 1),
			resp("C2", 90, "lead", "L1", day(1, 10), "sent", 0),
		}},
		{"costs", costCols, [][]any{
			cost("C1", 91, day(1, 10), 1_000, "EUR"),
			cost("C1", 92, day(2, 10), 500, "EUR"),
			cost("C1", 93, day(2, 11), 300, "USD"),
			cost("C1", 94, day(4, 2), 200, "EUR"),
		}},
		{"events", "tenant, stream, seq, event_id, aggregate_type, aggregate_id, event_type, occurred_at, actor, payload_json", [][]any{
			ev(1, "CRM_LEADS", "lead", "L1", "LeadCreated", day(1, 5)),
			ev(5, "CRM_LEADS", "lead", "L1", "LeadConverted", day(1, 15)),
			ev(6, "CRM_LEADS", "account", "A1", "AccountCreated", day(1, 15)),
			ev(7, "CRM_LEADS", "contact", "K1", "ContactCreated", day(1, 15)),
			ev(3, "CRM_PIPELINE", "opportunity", "O1", "OpportunityCreated", day(1, 15)),
			ev(9, "CRM_PIPELINE", "opportunity", "O1", "OpportunityWon", day(2, 14)),
			ev(10, "CRM_PIPELINE", "opportunity", "O3", "OpportunityCreated", day(2, 1)),
			ev(4, "CRM_CAMPAIGN", "member", "M-C1-L1", "CampaignMemberAdded", day(1, 3)),
			ev(8, "CRM_CAMPAIGN", "member", "M-C1-K1", "CampaignMemberAdded", day(2, 20)),
			ev(2, "CRM_LEADS", "lead", "L2", "LeadCreated", day(1, 10)),                   // another account's
			ev(11, "CRM_PIPELINE", "opportunity", "O2", "OpportunityCreated", day(1, 20)), // another account's
			{"t2", "CRM_LEADS", uint64(1), "x", "account", "A1", "AccountCreated", day(3, 1), "u", "{}"},
		}},
	}
}

func ev(seq uint64, stream, aggType, aggID, typ string, at time.Time) []any {
	return []any{tenant, stream, seq, stream + "-" + aggID + "-" + typ, aggType, aggID, typ, at, "u1", `{"id":"` + aggID + `"}`}
}
