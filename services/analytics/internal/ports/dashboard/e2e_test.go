package dashboard_test

import (
	"strings"
	"testing"
	"time"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// The dashboard in a real browser against the real system: the analytics binary (gRPC, the
// REST gateway and the embedded dashboard on -http-addr) projects a known history from
// JetStream into ClickHouse; headless Chromium loads /dashboard/, waits until every chart has
// rendered and reads the figures the page shows. They must be the history's (the answers of
// internal/service's end-to-end metric test), not placeholders, and a request the API refuses
// must show its error on the page.
func TestDashboardInBrowser(t *testing.T) {
	ctx := newBrowser(t) // first: skips (or fails under CI) before the slow part without a browser
	ch := testkit.SharedClickHouse(t)
	db := ch.NewDatabase(t)
	ns := testkit.StartNATS(t)
	events := appendHistory(t, ns)

	bin := testkit.BuildBinary(t, "github.com/evcrm/evcrm/services/analytics/cmd/analytics")
	httpAddr := testkit.FreeAddr(t)
	proc := testkit.StartProcess(t, bin, ns, "-clickhouse-addr", ch.Addr(), "-clickhouse-database", db,
		"-batch-wait", "50ms", "-http-addr", httpAddr)
	waitProjected(t, analyticsv1.NewAnalyticsServiceClient(proc.Conn(t)), events)
	base := "http://" + httpAddr + "/dashboard/"

	t.Run("Q1 by month", func(t *testing.T) {
		p := loadDashboard(t, ctx, base+"?tenant=acme&from=2026-01-01&to=2026-03-31&period=month&currency=EUR")
		if p.errors != 0 {
			t.Fatalf("%d cards failed: %s", p.errors, p.text)
		}
		shot := screenshot(t, ctx, "dashboard.png")
		p.expect(t, map[string]any{
			// Funnel: January's cohort (6 leads) and February's (L7) added up.
			"kpi.leads_created":                     7,
			"funnel.created.count":                  7,
			"funnel.mql.count":                      5,
			"funnel.sal.count":                      3,
			"funnel.sql.count":                      2,
			"funnel.converted.count":                2,
			"funnel.won.count":                      1,
			"funnel.mql.step_conversion":            5.0 / 7,
			"funnel.sal.step_conversion":            3.0 / 5,
			"funnel.won.step_conversion":            0.5,
			"funnel.won.overall_conversion":         1.0 / 7,
			"funnel.2026-01-01.created.count":       6,
			"funnel.2026-01-01.mql.count":           4,
			"funnel.2026-01-01.mql.median_s":        2 * 86400,
			"funnel.2026-02-01.mql.count":           1,
			"funnel.2026-01-01.won.median_s":        20 * 86400,
			"funnel.2026-01-01.sal.step_conversion": 0.75,
			// Pipeline by stage and time in stage.
			"stage.p1/qualify.entered":     4,
			"stage.p1/qualify.advanced":    3,
			"stage.p1/qualify.conversion":  0.75,
			"stage.p1/proposal.entered":    3,
			"stage.p1/proposal.lost":       1,
			"stage.p1/proposal.conversion": 1.0 / 3,
			"stage.p1/negotiation.entered": 1,
			"time.p1/qualify.avg_s":        201600,
			"time.p1/proposal.avg_s":       8.5 * 86400,
			"time.p1/proposal.p90_s":       10 * 86400,
			// Sales velocity and its inputs over the quarter (o2 lost in January, o1 won in
			// February at 12,000 after 20 days, o3 and o4 open): 2 × 0.5 × 12,000 / 20.
			"velocity.open_opportunities":            2,
			"velocity.win_rate":                      0.5,
			"velocity.average_deal_size":             12000,
			"velocity.sales_cycle_days":              20,
			"velocity.per_day":                       600,
			"velocity.won":                           1,
			"velocity.lost":                          1,
			"velocity.2026-01-01.open_opportunities": 3,
			"velocity.2026-02-01.per_day":            1200,
			"kpi.win_rate":                           0.5,
			"kpi.won_revenue":                        12000,
			// Weighted forecast: o4 2,000 at 10 % closing in February, o3 8,000 at 50 % in
			// March; o1's 12,000 won in February.
			"forecast.2026-02-01.open_opportunities": 1,
			"forecast.2026-02-01.open_amount":        2000,
			"forecast.2026-02-01.weighted":           200,
			"forecast.2026-02-01.closed_won":         12000,
			"forecast.2026-03-01.weighted":           4000,
			"kpi.weighted_pipeline":                  4200,
			// Campaigns.
			"campaign.c1.name":                "Winter Launch",
			"campaign.c1.members":             4,
			"campaign.c1.sent":                4,
			"campaign.c1.open_rate":           0.75,
			"campaign.c1.response_rate":       0.5,
			"campaign.c1.cost":                2000,
			"campaign.c1.leads":               3,
			"campaign.c1.cost_per_lead":       666.666667,
			"campaign.c1.opportunities":       2,
			"campaign.c1.influenced_pipeline": 17000,
			"campaign.c1.influenced_won":      12000,
			"campaign.c1.roi":                 5,
			"campaign.c1.first_touch_won":     12000,
			"campaign.c2.members":             1,
			"campaign.c2.last_touch_won":      12000,
			"campaign.total.cost":             2000,
			// The projector has caught up.
			"projection.state":   "current",
			"projection.pending": 0,
		})
		// Every stream's projected position is its last event's.
		for _, s := range []string{"CRM_LEADS", "CRM_PIPELINE", "CRM_CAMPAIGN"} {
			if g, w := p.metrics["projection."+s+".projected_sequence"], p.metrics["projection."+s+".last_sequence"]; g == "" || g == "0" || g != w {
				t.Errorf("%s: projected %q of %q", s, g, w)
			}
		}
		// The charts are drawn (SVG with the funnel's labels in it), not just the tables.
		svg, err := evalString(ctx, `document.querySelector("#chart-funnel svg")?.textContent ?? ""`)
		if err != nil || !strings.Contains(svg, "MQL") || !strings.Contains(svg, "Won") {
			t.Errorf("the funnel chart shows %q (%v)", svg, err)
		}
		bars, err := evalString(ctx, `String(document.querySelectorAll("#chart-forecast svg path").length)`)
		if err != nil || bars == "0" {
			t.Errorf("the forecast chart has %s paths (%v)", bars, err)
		}
		t.Logf("look at %s", shot)
	})

	t.Run("owner and source filters", func(t *testing.T) {
		// u1's web-form leads: L1, L5, L7 (L3 is an event lead); MQL L1 and L7; L1 won. u1's
		// web-form opportunities: o1, won.
		p := loadDashboard(t, ctx, base+"?tenant=acme&from=2026-01-01&to=2026-03-31&period=quarter&owner=u1&source=web_form&currency=EUR")
		if p.errors != 0 {
			t.Fatalf("%d cards failed: %s", p.errors, p.text)
		}
		p.expect(t, map[string]any{
			"funnel.created.count":            3,
			"funnel.mql.count":                2,
			"funnel.won.count":                1,
			"funnel.2026-01-01.created.count": 3,
			"velocity.win_rate":               1,
			"velocity.won":                    1,
			"velocity.lost":                   0,
			"velocity.average_deal_size":      12000,
			"stage.p1/negotiation.entered":    1,
		})
	})

	t.Run("errors are shown", func(t *testing.T) {
		// A range that ends before it starts: the metrics of the range answer InvalidArgument,
		// and the page says so instead of drawing empty charts. (The forecast's horizon runs
		// six months past the end, so its own range is still valid: 4 cards fail.)
		p := loadDashboard(t, ctx, base+"?tenant=acme&from=2026-03-01&to=2026-01-31&period=month&currency=EUR")
		if p.errors != 4 || !strings.Contains(p.text, "InvalidArgument") || !strings.Contains(p.text, "range.to") {
			t.Errorf("%d errors, banner %q", p.errors, p.text)
		}
		st, err := evalString(ctx, `document.querySelector('[data-card="funnel"]').dataset.state + " " +
			document.querySelector('[data-card="funnel"] .card-error').innerText`)
		if err != nil || !strings.HasPrefix(st, "error ") || !strings.Contains(st, "range.to") {
			t.Errorf("funnel card: %q (%v)", st, err)
		}
		screenshot(t, ctx, "dashboard-error.png")
	})
}

// waitProjected waits until the service has projected all events appended.
func waitProjected(t *testing.T, c analyticsv1.AnalyticsServiceClient, events int) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		st, err := c.GetProjectionStatus(testkit.As(t, tenant, "test"), &analyticsv1.GetProjectionStatusRequest{})
		var projected uint64
		done := err == nil && len(st.GetStreams()) == 3
		for _, s := range st.GetStreams() {
			projected += s.GetProjectedSequence()
			if s.GetPending() != 0 || s.GetProjectedSequence() != s.GetLastSequence() {
				done = false
			}
		}
		if done && projected == uint64(events) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the history (%d events) was not projected: %v (err %v)", events, st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
