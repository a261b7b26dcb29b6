package chquery_test

import (
	"testing"
	"time"

	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chquery"
)

// TestRenderRoundTrip: whatever a request carries comes back from ClickHouse 18.16 as the same
// value, never as SQL.
func TestRenderRoundTrip(t *testing.T) {
	t.Parallel()
	conn := testkit.SharedClickHouse(t).Conn(t)
	nasty := "it's a \\ back'slash\n'); DROP TABLE x; --\t\x00\x7f é"
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	sql, err := chquery.Render("SELECT {s:String}, {a:Array(String)}, {e:Array(String)}, {t:DateTime}, {d:Date}, {n:Int64}, {u:UInt64}",
		chquery.Params{"s": nasty, "a": []string{nasty, "b"}, "e": []string{}, "t": at, "d": at, "n": int64(-5), "u": uint64(7)})
	if err != nil {
		t.Fatal(err)
	}
	var (
		s    string
		a, e []string
		ts   time.Time
		d    time.Time
		n    int64
		u    uint8
	)
	if err := conn.QueryRow(t.Context(), sql).Scan(&s, &a, &e, &ts, &d, &n, &u); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if s != nasty || len(a) != 2 || a[0] != nasty || len(e) != 0 || !ts.Equal(at) ||
		d.Format(time.DateOnly) != "2026-03-14" || n != -5 || u != 7 {
		t.Errorf("round trip: %q %q %q %v %v %d %d", s, a, e, ts, d, n, u)
	}
}

func TestRenderRefuses(t *testing.T) {
	t.Parallel()
	for name, p := range map[string]chquery.Params{
		"missing":    {},
		"wrong type": {"x": 5},
	} {
		if _, err := chquery.Render("SELECT {x:String}", p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := chquery.Render("SELECT {x:Map(String, String)}", chquery.Params{"x": "a"}); err == nil {
		t.Error("unsupported type: no error")
	}
}
