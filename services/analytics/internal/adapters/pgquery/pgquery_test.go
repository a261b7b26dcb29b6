package pgquery_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chquery"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/metrichistory"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/pgquery"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// TestSameNumbers loads a history into ClickHouse (the migrations, then rows inserted as the
// projector would write them), copies it into PostgreSQL with pgquery.Load, and checks that
// every metric returns the same rows from both engines for many scopes: chquery's scripted
// history (inserted three times, as a replay would: the copy must take the deduplicated
// state), and a seeded random history large enough that quantiles, ties and breakdowns have
// many values. The expected numbers are ClickHouse's, from chquery's functions.
func TestSameNumbers(t *testing.T) {
	for _, c := range []struct {
		name   string
		tables []table
		copies int
	}{
		{"scripted history x3", metrichistory.History(), 3},
		{"random history", randomHistory(rand.New(rand.NewPCG(9, 4))), 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch := loadClickHouse(t, c.tables, c.copies)
			pg := testkit.StartPostgres(t)
			stats, err := pgquery.Load(t.Context(), ch, pg.Pool)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("loaded %v in %v (+ indexes %v)", stats.Rows, stats.Copy, stats.Index)
			// One row per entity: the older versions and the replayed copies stayed behind.
			var leads int64
			if err := pg.Pool.QueryRow(t.Context(), "SELECT count(*) FROM leads WHERE tenant = $1", tenant).Scan(&leads); err != nil {
				t.Fatal(err)
			}
			if want := distinctLeads(c.tables); leads != want {
				t.Fatalf("%d lead rows in PostgreSQL, want %d (one per lead)", leads, want)
			}
			compareAll(t, ch, pg.Pool)
		})
	}
}

// compareAll runs every metric over a spread of scopes on both engines and fails on the first
// difference in each. It also fails when ClickHouse returns no row for most scopes: a
// comparison of empty results would prove nothing.
func compareAll(t *testing.T, ch driver.Conn, pg pgquery.Querier) {
	ctx := t.Context()
	var scopes []chquery.Scope
	ranges := [][2]time.Time{
		{day(1, 1), day(4, 1)},
		{day(1, 1), day(7, 1)},
		// Bounds inside a day and with a fraction of a second: dates round up, times down.
		{day(1, 10, 13).Add(1500 * time.Millisecond), day(3, 20, 7).Add(300 * time.Millisecond)},
		{time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, r := range ranges {
		for _, period := range chquery.Periods {
			for _, breakdown := range chquery.Breakdowns {
				scopes = append(scopes, chquery.Scope{Tenant: tenant, From: r[0], To: r[1], Period: period, Breakdown: breakdown})
			}
		}
	}
	filtered := chquery.Scope{Tenant: tenant, From: day(1, 1), To: day(7, 1), Period: "month", Breakdown: "owner",
		Filters: chquery.Filters{Sources: []string{"web", "event"}, CampaignIDs: []string{"C1", "C2"},
			OwnerIDs: []string{"u1", "u2", "u3"}, TerritoryIDs: []string{"T1", "T2"}, PipelineIDs: []string{"P1"}}}
	scopes = append(scopes, filtered)
	for _, f := range []chquery.Filters{{Sources: []string{"web"}}, {CampaignIDs: []string{"C1"}}, {OwnerIDs: []string{"u2"}},
		{TerritoryIDs: []string{"T2"}}, {PipelineIDs: []string{"P2"}}} {
		s := filtered
		s.Filters = f
		scopes = append(scopes, s)
	}
	other := chquery.Scope{Tenant: "t2", From: day(1, 1), To: day(7, 1)}

	// A metric's scopes are those that differ in what it reads: campaign performance has no
	// period, breakdown or filter but the campaigns, stage metrics no period.
	noPeriod := func(s chquery.Scope) chquery.Scope { s.Period = ""; return s }
	campaignOnly := func(s chquery.Scope) chquery.Scope {
		return chquery.Scope{Tenant: s.Tenant, From: s.From, To: s.To, Filters: chquery.Filters{CampaignIDs: s.Filters.CampaignIDs}}
	}
	type metric struct {
		name  string
		scope func(chquery.Scope) chquery.Scope // nil: every field matters
		run   func(s chquery.Scope) (chRes, pgRes any, chErr, pgErr error, rows int)
	}
	metrics := []metric{
		{"funnel", nil, func(s chquery.Scope) (any, any, error, error, int) {
			var w time.Duration
			if s.Period == "week" {
				w = 30 * 24 * time.Hour
			}
			a, e1 := chquery.Funnel(ctx, ch, s, w)
			b, e2 := pgquery.Funnel(ctx, pg, s, w)
			return a, b, e1, e2, len(a)
		}},
		{"stage_metrics", noPeriod, func(s chquery.Scope) (any, any, error, error, int) {
			a, e1 := chquery.StageMetrics(ctx, ch, s)
			b, e2 := pgquery.StageMetrics(ctx, pg, s)
			return a, b, e1, e2, len(a)
		}},
		{"sales_velocity", nil, func(s chquery.Scope) (any, any, error, error, int) {
			a, e1 := chquery.SalesVelocity(ctx, ch, s, "EUR")
			b, e2 := pgquery.SalesVelocity(ctx, pg, s, "EUR")
			return a, b, e1, e2, len(a)
		}},
		{"sales_velocity USD", nil, func(s chquery.Scope) (any, any, error, error, int) {
			a, e1 := chquery.SalesVelocity(ctx, ch, s, "USD")
			b, e2 := pgquery.SalesVelocity(ctx, pg, s, "USD")
			return a, b, e1, e2, len(a)
		}},
		{"forecast", nil, func(s chquery.Scope) (any, any, error, error, int) {
			a, e1 := chquery.Forecast(ctx, ch, s, "EUR")
			b, e2 := pgquery.Forecast(ctx, pg, s, "EUR")
			return a, b, e1, e2, len(a)
		}},
		{"campaign_performance", campaignOnly, func(s chquery.Scope) (any, any, error, error, int) {
			a, e1 := chquery.CampaignPerformance(ctx, ch, s, "EUR")
			b, e2 := pgquery.CampaignPerformance(ctx, pg, s, "EUR")
			return a, b, e1, e2, len(a)
		}},
		{"campaign_performance USD", campaignOnly, func(s chquery.Scope) (any, any, error, error, int) {
			a, e1 := chquery.CampaignPerformance(ctx, ch, s, "USD")
			b, e2 := pgquery.CampaignPerformance(ctx, pg, s, "USD")
			return a, b, e1, e2, len(a)
		}},
	}
	for _, m := range metrics {
		t.Run(m.name, func(t *testing.T) {
			nonEmpty, runs := 0, 0
			seen := map[string]bool{}
			for _, s := range append(scopes, other) {
				if m.scope != nil {
					s = m.scope(s)
				}
				k := fmt.Sprintf("%+v", s)
				if seen[k] {
					continue
				}
				seen[k] = true
				runs++
				a, b, e1, e2, rows := m.run(s)
				if e1 != nil || e2 != nil {
					t.Fatalf("%+v: ClickHouse: %v; PostgreSQL: %v", s, e1, e2)
				}
				if d := pgquery.Diff(a, b); d != "" {
					t.Fatalf("scope %+v: ClickHouse vs PostgreSQL differ: %s", s, d)
				}
				if rows > 0 {
					nonEmpty++
				}
			}
			if nonEmpty < runs/2 {
				t.Fatalf("only %d of %d scopes returned rows: the comparison proves little", nonEmpty, runs)
			}
			t.Logf("%d scopes, %d with rows", runs, nonEmpty)
		})
	}
}

// TestDiff checks that the comparison itself can fail: a count, a key, a date or a float
// beyond the tolerance differs; a float within it does not.
func TestDiff(t *testing.T) {
	row := chquery.VelocityRow{PeriodStart: day(2, 1), Key: "u1", OpenOpportunities: 2, Won: 1, WinRate: 0.5,
		AvgDealMicros: 1e10, SalesCycleDays: 30, VelocityMicrosPerDay: 1e10 / 30}
	same := row
	same.VelocityMicrosPerDay *= 1 + 1e-12
	if d := pgquery.Diff([]chquery.VelocityRow{row}, []chquery.VelocityRow{same}); d != "" {
		t.Fatalf("within the tolerance, got %s", d)
	}
	for name, change := range map[string]func(*chquery.VelocityRow){
		"count": func(r *chquery.VelocityRow) { r.Won++ },
		"key":   func(r *chquery.VelocityRow) { r.Key = "u2" },
		"date":  func(r *chquery.VelocityRow) { r.PeriodStart = day(3, 1) },
		"float": func(r *chquery.VelocityRow) { r.WinRate *= 1 + 1e-6 },
	} {
		other := row
		change(&other)
		if d := pgquery.Diff([]chquery.VelocityRow{row}, []chquery.VelocityRow{other}); d == "" {
			t.Errorf("%s: no difference found", name)
		}
	}
	if d := pgquery.Diff([]chquery.VelocityRow{row}, []chquery.VelocityRow{}); d == "" {
		t.Error("a missing row: no difference found")
	}
	f := chquery.FunnelRow{Reached: [5]uint64{1, 2}}
	g := f
	g.P90[4] = 1
	if d := pgquery.Diff([]chquery.FunnelRow{f}, []chquery.FunnelRow{g}); d == "" {
		t.Error("an array element: no difference found")
	}
}

// loadClickHouse creates a ClickHouse database with the migrations applied and the tables
// inserted copies times (each copy its own INSERT, as a replayed batch would be).
func loadClickHouse(t *testing.T, tables []table, copies int) driver.Conn {
	t.Helper()
	ch := testkit.SharedClickHouse(t)
	conn := ch.ConnDatabase(t, ch.NewDatabase(t))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if _, err := chschema.Migrate(ctx, conn); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	for range copies {
		for _, tb := range tables {
			metrichistory.Insert(ctx, t, conn, tb)
		}
	}
	return conn
}

// distinctLeads is the number of leads of tenant in tables.
func distinctLeads(tables []table) int64 {
	ids := map[string]bool{}
	for _, tb := range tables {
		if tb.Name != "leads" {
			continue
		}
		for _, r := range tb.Rows {
			if r[0] == tenant {
				ids[r[1].(string)] = true
			}
		}
	}
	return int64(len(ids))
}

// randomHistory is a seeded history of 800 leads, 400 opportunities with their stage moves,
// 5 campaigns with members, responses and costs, and conversions, over the first half of 2026:
// many values per group for the quantiles, equal values and equal times for the tie rules, an
// older version of some rows (the copy must keep the latest), two currencies, and times
// spread over whole seconds.
func randomHistory(r *rand.Rand) []table {
	base := day(1, 1)
	span := int64(181 * dayS)
	at := func(s int64) time.Time { return base.Add(time.Duration(s) * time.Second) }
	pick := func(v ...string) string { return v[r.IntN(len(v))] }
	// Durations: many on whole days (ties), the rest any second.
	dur := func(maxDays int) int64 {
		if r.IntN(2) == 0 {
			return int64(r.IntN(maxDays+1)) * dayS
		}
		return r.Int64N(int64(maxDays)*dayS + 1)
	}
	var seq uint64 = 1000
	next := func() uint64 { seq++; return seq }

	leadCols := "tenant, lead_id, seq, status, source, campaign_id, owner_id, territory_id, created_at, merged_into_id, account_id, " +
		"mql_at, sal_at, sql_at, converted_at, won_at"
	var leads [][]any
	type leadInfo struct {
		id        string
		converted time.Time
	}
	var leadIDs []leadInfo
	for i := range 800 {
		id := fmt.Sprintf("RL%d", i)
		created := r.Int64N(span) - 20*dayS // some before the range
		steps := [5]time.Time{never, never, never, never, never}
		tcur := created
		for s := 0; s < 5 && r.IntN(10) < 7; s++ {
			// A skipped status is reached at the time of the skip: sometimes the same time.
			if r.IntN(5) > 0 {
				tcur += dur(20)
			}
			steps[s] = at(tcur)
		}
		merged := ""
		if r.IntN(25) == 0 {
			merged = fmt.Sprintf("RL%d", r.IntN(800))
		}
		src, camp, owner, terr := pick("web", "event", "referral"), pick("", "C1", "C2", "C3", "C4", "C9"), pick("u1", "u2", "u3", "u4"), pick("T1", "T2", "T3")
		if r.IntN(4) == 0 { // an older version of the row, with a lower seq
			leads = append(leads, []any{tenant, id, next(), "new", "web", "", "u9", "T9", at(created), "", "", never, never, never, never, never})
		}
		leads = append(leads, []any{tenant, id, next(), "x", src, camp, owner, terr, at(created), merged, "",
			steps[0], steps[1], steps[2], steps[3], steps[4]})
		leadIDs = append(leadIDs, leadInfo{id, steps[3]})
	}

	oppCols := "tenant, opportunity_id, seq, pipeline_id, stage_id, stage_name, status, forecast_category, probability, " +
		"amount_micros, currency, owner_id, account_id, lead_id, campaign_id, source, expected_close_date, created_at, closed_at"
	stCols := "tenant, opportunity_id, seq, event_id, at, pipeline_id, from_stage_id, from_stage_name, to_stage_id, " +
		"to_stage_name, outcome, time_in_stage_s, owner_id, source, campaign_id"
	stages := []string{"S1", "S2", "S3", "S4"}
	var opps, moves, conversions [][]any
	converted := map[string]bool{}
	for i := range 400 {
		id := fmt.Sprintf("RO%d", i)
		created := r.Int64N(span)
		pipeline, owner, src, camp := pick("P1", "P2"), pick("u1", "u2", "u3", "u4"), pick("web", "event", "referral"), pick("", "C1", "C2", "C3")
		lead := ""
		if r.IntN(3) > 0 {
			l := leadIDs[r.IntN(len(leadIDs))]
			lead = l.id
			// A lead converts once (conversions' key is the lead).
			if r.IntN(2) == 0 && !converted[l.id] {
				converted[l.id] = true
				conversions = append(conversions, []any{tenant, l.id, next(), at(created), "A" + l.id, "K" + l.id, id})
			}
		}
		currency := "EUR"
		if r.IntN(6) == 0 {
			currency = "USD"
		}
		// Moves: created in S1, then forward/backward, then won, lost or still open.
		tcur, stage := created, 0
		moves = append(moves, []any{tenant, id, next(), "e" + id + "c", at(tcur), pipeline, "", "", "S1", "Stage S1", "created", int64(0), owner, src, camp})
		for n := r.IntN(5); n > 0; n-- {
			d := dur(15)
			tcur += d
			to, outcome := stage+1, "forward"
			if stage > 0 && r.IntN(4) == 0 {
				to, outcome = stage-1, "backward"
			}
			if to >= len(stages) {
				break
			}
			moves = append(moves, []any{tenant, id, next(), fmt.Sprintf("e%s%d", id, n), at(tcur), pipeline, stages[stage], "Stage " + stages[stage],
				stages[to], "Stage " + stages[to], outcome, d, owner, src, camp})
			stage = to
		}
		status, closed := pick("open", "open", "won", "lost"), never
		if status != "open" {
			d := dur(20)
			tcur += d
			closed = at(tcur)
			if r.IntN(20) == 0 { // a close date before the creation day: counts from creation
				closed = at(created - 2*dayS)
			}
			moves = append(moves, []any{tenant, id, next(), "e" + id + "z", closed, pipeline, stages[stage], "Stage " + stages[stage],
				"", "", status, d, owner, src, camp})
		}
		amount := int64(1+r.IntN(50)) * 500 * 1_000_000
		prob := float64(r.IntN(10)) / 10
		closeDate := at(created + dur(120)).Truncate(24 * time.Hour)
		if r.IntN(4) == 0 { // an older version
			opps = append(opps, []any{tenant, id, next(), pipeline, "S1", "Stage S1", "open", "pipeline", 0.1, int64(1), currency, owner, "", lead, camp, src, closeDate, at(created), never})
		}
		opps = append(opps, []any{tenant, id, next(), pipeline, stages[stage], "Stage " + stages[stage], status,
			pick("pipeline", "best_case", "commit", "closed"), prob, amount, currency, owner, "", lead, camp, src, closeDate, at(created), closed})
	}

	var campaigns, members, responses, costs [][]any
	for _, c := range []string{"C1", "C2", "C3", "C4", "C5"} {
		campaigns = append(campaigns, []any{tenant, c, next(), "Old " + c, "email", "planned", "EUR"})
		campaigns = append(campaigns, []any{tenant, c, next(), "Campaign " + c, pick("email", "webinar", "social"), "active", "EUR"})
		for range 4 {
			costs = append(costs, []any{tenant, c, next(), "c" + c, at(r.Int64N(span)).Truncate(24 * time.Hour), at(r.Int64N(span)),
				int64(1+r.IntN(20)) * 100 * 1_000_000, pick("EUR", "EUR", "USD")})
		}
	}
	memberCols := "tenant, campaign_id, member_type, person_id, member_id, seq, added_at, status"
	respCols := "tenant, campaign_id, seq, event_id, member_type, person_id, at, kind, responded"
	for i := range 600 {
		c := pick("C1", "C2", "C3", "C4", "C5", "C9")
		l := leadIDs[r.IntN(len(leadIDs))]
		typ, person := "lead", l.id
		if r.IntN(3) == 0 {
			typ, person = "contact", "K"+l.id
		}
		// Whole days, so that touches of different campaigns tie on time.
		added := at(r.Int64N(181) * dayS)
		if r.IntN(4) == 0 { // an older version with another time
			members = append(members, []any{tenant, c, typ, person, fmt.Sprintf("M%d", i), next(), at(0), "sent"})
		}
		members = append(members, []any{tenant, c, typ, person, fmt.Sprintf("M%d", i), next(), added, "sent"})
		for n := r.IntN(4); n > 0; n-- {
			kind := pick("sent", "opened", "clicked", "responded", "converted")
			var responded uint8
			if kind == "clicked" || kind == "responded" || kind == "converted" {
				responded = 1
			}
			responses = append(responses, []any{tenant, c, next(), fmt.Sprintf("r%d-%d", i, n), typ, person,
				added.Add(time.Duration(r.Int64N(30*dayS)) * time.Second), kind, responded})
		}
	}
	return []table{
		{Name: "leads", Cols: leadCols, Rows: leads},
		{Name: "opportunities", Cols: oppCols, Rows: opps},
		{Name: "stage_transitions", Cols: stCols, Rows: moves},
		{Name: "conversions", Cols: "tenant, lead_id, seq, at, account_id, contact_id, opportunity_id", Rows: conversions},
		{Name: "campaigns", Cols: "tenant, campaign_id, seq, name, channel, status, currency", Rows: campaigns},
		{Name: "members", Cols: memberCols, Rows: members},
		{Name: "responses", Cols: respCols, Rows: responses},
		{Name: "costs", Cols: "tenant, campaign_id, seq, event_id, date, at, amount_micros, currency", Rows: costs},
	}
}
