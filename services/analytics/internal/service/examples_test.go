package service_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
)

// examplesDir holds the analysts' example questions of docs/analytics.md; tools/chcompat runs
// them on ClickHouse 26.x, this test on 18.16 over the migrated schema with rows whose answers
// are known.
var examplesDir = filepath.Join("..", "..", "..", "..", "docs", "analytics", "examples")

func TestAnalystExamplesRunOn1816(t *testing.T) {
	ch := testkit.SharedClickHouse(t)
	db := ch.NewDatabase(t)
	conn := ch.ConnDatabase(t, db)
	ctx := t.Context()
	_, err := chschema.Migrate(ctx, conn)
	require.NoError(t, err)

	now := time.Now().UTC().Truncate(time.Second)
	y, m, _ := now.Date()
	quarterStart := time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, time.UTC)
	lastQuarter := quarterStart.AddDate(0, 0, -30) // inside the previous quarter: quarters last ≥ 90 days
	day := int64(86400)
	seedExamples(t, conn, now, quarterStart, lastQuarter, day)

	files, err := filepath.Glob(filepath.Join(examplesDir, "*.sql"))
	require.NoError(t, err)
	require.Len(t, files, 10, "docs/analytics.md promises ten example questions")
	results := map[string][]map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		stmts := chschema.Split(string(b))
		require.Len(t, stmts, 1, "%s: one statement per example", f)
		require.NotContains(t, stmts[0], "{", "%s: examples are plain SQL an analyst can paste", f)
		rows := queryMaps(t, conn, stmts[0])
		require.NotEmpty(t, rows, "%s returns no row over the seeded data", filepath.Base(f))
		results[filepath.Base(f)] = rows
	}

	// Answers worked out by hand from seedExamples.
	require.Equal(t, []map[string]any{
		{"source": "web", "mql": uint64(2), "became_sql": uint64(1), "mql_to_sql_rate": 0.5},
		{"source": "event", "mql": uint64(1), "became_sql": uint64(1), "mql_to_sql_rate": 1.0},
	}, results["01_mql_to_sql_by_source_last_quarter.sql"])
	require.Equal(t, []map[string]any{
		{"owner_id": "o1", "exits": uint64(3), "median_days": 3.0, "p90_days": 5.0},
		{"owner_id": "o2", "exits": uint64(1), "median_days": 2.0, "p90_days": 2.0},
	}, results["02_median_days_in_negotiation_by_owner.sql"])
	require.Equal(t, []map[string]any{
		{"pipeline_id": "p1", "won": uint64(2), "lost": uint64(1), "win_rate": 0.667},
	}, results["03_win_rate_by_pipeline_this_year.sql"])
	require.Equal(t, []map[string]any{
		{"stage_now": "Proposal", "currency": "EUR", "opportunities": uint64(1), "amount": 1000.0, "weighted_amount": 500.0},
	}, results["04_open_pipeline_by_stage.sql"])
	require.Equal(t, []map[string]any{
		{"campaign_id": "c1", "currency": "EUR", "cost": 300.0, "new_leads": uint64(3), "cost_per_lead": 100.0},
	}, results["06_cost_per_lead_by_campaign.sql"])
	require.Equal(t, []map[string]any{
		{"channel": "email", "members": uint64(4), "responders": uint64(1), "unsubscribes": uint64(1), "response_rate": 0.25, "unsubscribe_rate": 0.25},
	}, results["07_response_rate_by_channel.sql"])
}

// seedExamples writes rows straight into the tables (the projector's job in production), each
// table in two inserts where a replayed event must collapse.
func seedExamples(t *testing.T, conn driver.Conn, now, quarterStart, lastQuarter time.Time, day int64) {
	t.Helper()
	at := func(base time.Time, days int) time.Time { return base.AddDate(0, 0, days) }
	// Leads l1 (web) and l3 (event) reached SQL after becoming MQL last quarter, l2 (web) did
	// not; l4 became MQL this quarter and does not count.
	ltCols := []string{"tenant", "lead_id", "seq", "at", "from_status", "to_status", "source"}
	ltRows := [][]any{
		{"acme", "l1", uint64(1), lastQuarter, "new", "marketing_qualified", "web"},
		{"acme", "l1", uint64(2), at(lastQuarter, 5), "marketing_qualified", "sales_qualified", "web"},
		{"acme", "l2", uint64(3), lastQuarter, "new", "marketing_qualified", "web"},
		{"acme", "l3", uint64(4), at(lastQuarter, 1), "new", "marketing_qualified", "event"},
		{"acme", "l3", uint64(5), quarterStart, "marketing_qualified", "sales_qualified", "event"},
		{"acme", "l4", uint64(6), now, "new", "marketing_qualified", "web"},
		{"other", "l9", uint64(7), lastQuarter, "new", "marketing_qualified", "web"},
	}
	insertRows(t, conn, "lead_transitions", ltCols, ltRows...)
	insertRows(t, conn, "lead_transitions", ltCols, ltRows[0]) // a replayed event

	// Negotiation exits: o1 after 1, 3 and 5 days (median 3, p90 5), o2 after 2 days. The
	// replayed 5-day exit would move o1's median to 5 without FINAL.
	stCols := []string{"tenant", "opportunity_id", "seq", "at", "pipeline_id", "from_stage_name", "to_stage_name", "outcome", "time_in_stage_s", "amount_micros", "currency", "owner_id"}
	stRows := [][]any{
		{"acme", "op1", uint64(10), at(now, -10), "p1", "Negotiation", "Closed Won", "won", 1 * day, int64(0), "EUR", "o1"},
		{"acme", "op2", uint64(11), at(now, -9), "p1", "Negotiation", "Proposal", "backward", 3 * day, int64(0), "EUR", "o1"},
		{"acme", "op3", uint64(12), at(now, -8), "p1", "Negotiation", "Closed Lost", "lost", 5 * day, int64(2_000_000_000), "EUR", "o1"},
		{"acme", "op4", uint64(13), at(now, -7), "p1", "Negotiation", "Closed Won", "won", 2 * day, int64(0), "EUR", "o2"},
		{"acme", "op5", uint64(14), at(now, -7), "p1", "", "Negotiation", "created", 9 * day, int64(0), "EUR", "o2"},
	}
	insertRows(t, conn, "stage_transitions", stCols, stRows...)
	insertRows(t, conn, "stage_transitions", stCols, stRows[2])

	// Opportunities: two won and one lost this year in p1, one open in Proposal. op1's first
	// row (open) is superseded by its later one (won).
	oppCols := []string{"tenant", "opportunity_id", "seq", "pipeline_id", "stage_name", "status", "probability", "amount_micros", "currency", "owner_id", "created_at", "closed_at"}
	open := time.Unix(0, 0).UTC()
	insertRows(t, conn, "opportunities", oppCols,
		[]any{"acme", "op1", uint64(20), "p1", "Negotiation", "open", 0.8, int64(5_000_000_000), "EUR", "o1", at(now, -30), open})
	insertRows(t, conn, "opportunities", oppCols,
		[]any{"acme", "op1", uint64(21), "p1", "Closed Won", "won", 1.0, int64(5_000_000_000), "EUR", "o1", at(now, -30), now},
		[]any{"acme", "op4", uint64(22), "p1", "Closed Won", "won", 1.0, int64(3_000_000_000), "EUR", "o2", at(now, -20), now},
		[]any{"acme", "op3", uint64(23), "p1", "Closed Lost", "lost", 0.0, int64(2_000_000_000), "EUR", "o1", at(now, -20), now},
		[]any{"acme", "op5", uint64(24), "p1", "Proposal", "open", 0.5, int64(1_000_000_000), "EUR", "o2", at(now, -7), open})

	// Leads: three of campaign c1 created in the last 90 days, one converted after 4 days.
	leadCols := []string{"tenant", "lead_id", "seq", "status", "source", "campaign_id", "created_at", "converted_at"}
	insertRows(t, conn, "leads", leadCols,
		[]any{"acme", "l1", uint64(30), "converted", "web", "c1", at(now, -20), at(now, -16)},
		[]any{"acme", "l2", uint64(31), "marketing_qualified", "web", "c1", at(now, -10), open},
		[]any{"acme", "l3", uint64(32), "sales_qualified", "event", "c1", at(now, -5), open})

	// Campaign c1 (email): 300 EUR of costs, four members, one responded, one unsubscribed.
	insertRows(t, conn, "campaigns", []string{"tenant", "campaign_id", "seq", "name", "channel", "status", "currency"},
		[]any{"acme", "c1", uint64(40), "Launch", "email", "active", "EUR"})
	costCols := []string{"tenant", "campaign_id", "seq", "date", "at", "amount_micros", "currency", "channel"}
	costRows := [][]any{
		{"acme", "c1", uint64(41), at(now, -10), at(now, -10), int64(100_000_000), "EUR", "email"},
		{"acme", "c1", uint64(42), at(now, -3), at(now, -3), int64(200_000_000), "EUR", "email"},
	}
	insertRows(t, conn, "costs", costCols, costRows...)
	insertRows(t, conn, "costs", costCols, costRows[1])
	memberCols := []string{"tenant", "campaign_id", "member_type", "person_id", "seq", "status", "responded", "unsubscribed"}
	insertRows(t, conn, "members", memberCols,
		[]any{"acme", "c1", "lead", "l1", uint64(43), "sent", uint8(0), uint8(0)},
		[]any{"acme", "c1", "lead", "l2", uint64(44), "sent", uint8(0), uint8(0)},
		[]any{"acme", "c1", "lead", "l3", uint64(45), "sent", uint8(0), uint8(1)},
		[]any{"acme", "c1", "contact", "k1", uint64(46), "sent", uint8(0), uint8(0)})
	insertRows(t, conn, "members", memberCols,
		[]any{"acme", "c1", "lead", "l1", uint64(47), "responded", uint8(1), uint8(0)})
}

// insertRows sends rows into table in one batch, naming the columns (18.16 needs them named).
func insertRows(t testing.TB, conn driver.Conn, table string, cols []string, rows ...[]any) {
	t.Helper()
	b, err := conn.PrepareBatch(t.Context(), "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+")")
	require.NoError(t, err)
	for _, r := range rows {
		require.NoError(t, b.Append(r...), "%s %v", table, r)
	}
	require.NoError(t, b.Send(), table)
}

// queryMaps returns every row of sql as column name → value.
func queryMaps(t testing.TB, conn driver.Conn, sql string) []map[string]any {
	t.Helper()
	rows, err := conn.Query(t.Context(), sql)
	require.NoError(t, err, sql)
	defer rows.Close()
	cols := rows.ColumnTypes()
	var out []map[string]any
	for rows.Next() {
		ptrs := make([]any, len(cols))
		for i, c := range cols {
			ptrs[i] = reflect.New(c.ScanType()).Interface()
		}
		require.NoError(t, rows.Scan(ptrs...))
		row := map[string]any{}
		for i, c := range cols {
			row[c.Name()] = reflect.ValueOf(ptrs[i]).Elem().Interface()
		}
		out = append(out, row)
	}
	require.NoError(t, rows.Err())
	return out
}

// docs/analytics.md documents every column of every table the migrations create, each in the
// section of its table.
func TestDocsListEveryColumn(t *testing.T) {
	ch := testkit.SharedClickHouse(t)
	db := ch.NewDatabase(t)
	conn := ch.ConnDatabase(t, db)
	_, err := chschema.Migrate(t.Context(), conn)
	require.NoError(t, err)
	doc, err := os.ReadFile(filepath.Join(examplesDir, "..", "..", "analytics.md"))
	require.NoError(t, err)
	sections := map[string]string{}
	for _, s := range strings.Split(string(doc), "\n### `")[1:] {
		name, body, _ := strings.Cut(s, "`")
		sections[name] = body
	}
	rows := queryMaps(t, conn, "SELECT table, name FROM system.columns WHERE database = '"+db+"' ORDER BY table, name")
	require.NotEmpty(t, rows)
	for _, r := range rows {
		table, col := r["table"].(string), r["name"].(string)
		body, ok := sections[table]
		require.True(t, ok, "docs/analytics.md has no section for table %s", table)
		require.Contains(t, body, "`"+col+"`", "docs/analytics.md, table %s: column %s is not documented", table, col)
	}
}
