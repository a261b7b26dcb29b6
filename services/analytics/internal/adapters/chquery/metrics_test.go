package chquery_test

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chquery"
)

// TestMetrics checks every metric against the scripted history (history_test.go), loaded once
// and then loaded three times (a replay and a redelivery): duplicates must change nothing.
func TestMetrics(t *testing.T) {
	t.Parallel()
	for _, copies := range []int{1, 3} {
		t.Run(fmt.Sprintf("copies=%d", copies), func(t *testing.T) {
			t.Parallel()
			conn := load(t, copies)
			t.Run("funnel", func(t *testing.T) { testFunnel(t, conn) })
			t.Run("stage metrics", func(t *testing.T) { testStageMetrics(t, conn) })
			t.Run("sales velocity", func(t *testing.T) { testSalesVelocity(t, conn) })
			t.Run("forecast", func(t *testing.T) { testForecast(t, conn) })
			t.Run("campaign performance", func(t *testing.T) { testCampaignPerformance(t, conn) })
			t.Run("timeline", func(t *testing.T) { testTimeline(t, conn) })
		})
	}
}

// q1 is the first quarter of 2026, the range of most checks.
func q1(period, breakdown string) chquery.Scope {
	return chquery.Scope{Tenant: tenant, From: day(1, 1), To: day(4, 1), Period: period, Breakdown: breakdown}
}

func testFunnel(t *testing.T, conn driver.Conn) {
	// January cohort (no window): L1, L2, L3 (L6 was created in 2025, L7 is merged away).
	//   mql       L1 Jan 6 (1 d), L2 Jan 12 (2 d), L3 Jan 21 (1 d): 3; sorted [1,1,2] d:
	//             p50 = [⌊1.5⌋=1] = 1 d, p90 = [⌊2.7⌋=2] = 2 d
	//   sal       L1 Jan 8 (2 d after MQL), L2 skipped to SQL Jan 15 (3 d after MQL): 2;
	//             sorted [2,3] d: p50 = [1] = 3 d, p90 = [⌊1.8⌋=1] = 3 d
	//   sql       L1 Jan 11 (3 d), L2 Jan 15 (0: same time as its SAL): 2; [0,3] d → 3 d, 3 d
	//   converted L1 Jan 15 (4 d), L2 Jan 20 (5 d): 2; [4,5] d → 5 d, 5 d
	//   won       L1's O1 won Feb 14 (30 d after conversion): 1; [30] d → 30 d, 30 d
	// February cohort: L4, L5: created 2, mql 1 (L4 Mar 20, 45 d after Feb 3), nothing else.
	jan := chquery.FunnelRow{PeriodStart: day(1, 1), Created: 3, Reached: [5]uint64{3, 2, 2, 2, 1},
		P50: [5]int64{1 * dayS, 3 * dayS, 3 * dayS, 5 * dayS, 30 * dayS},
		P90: [5]int64{2 * dayS, 3 * dayS, 3 * dayS, 5 * dayS, 30 * dayS}}
	feb := chquery.FunnelRow{PeriodStart: day(2, 1), Created: 2, Reached: [5]uint64{1, 0, 0, 0, 0},
		P50: [5]int64{45 * dayS}, P90: [5]int64{45 * dayS}}
	got, err := chquery.Funnel(t.Context(), conn, q1("month", ""), 0)
	check(t, "funnel", got, err, []chquery.FunnelRow{jan, feb})

	// A 30-day window: O1 was won Feb 14, 40 days after L1's creation on Jan 5, so January has
	// no win; L4's MQL came 45 days after creation, so February has no MQL.
	jan30, feb30 := jan, feb
	jan30.Reached[4], jan30.P50[4], jan30.P90[4] = 0, 0, 0
	feb30.Reached[0], feb30.P50[0], feb30.P90[0] = 0, 0, 0
	got, err = chquery.Funnel(t.Context(), conn, q1("month", ""), 30*24*time.Hour)
	check(t, "funnel window 30d", got, err, []chquery.FunnelRow{jan30, feb30})

	// By source, per quarter: event = L3 (mql 1 d) and L5; web = L1, L2, L4:
	//   web mql [1 d (L1), 2 d (L2), 45 d (L4)] → p50 [1] = 2 d, p90 [2] = 45 d; the later
	//   steps are L1's and L2's as in January.
	event := chquery.FunnelRow{PeriodStart: day(1, 1), Key: "event", Created: 2, Reached: [5]uint64{1},
		P50: [5]int64{dayS}, P90: [5]int64{dayS}}
	web := chquery.FunnelRow{PeriodStart: day(1, 1), Key: "web", Created: 3, Reached: [5]uint64{3, 2, 2, 2, 1},
		P50: [5]int64{2 * dayS, 3 * dayS, 3 * dayS, 5 * dayS, 30 * dayS},
		P90: [5]int64{45 * dayS, 3 * dayS, 3 * dayS, 5 * dayS, 30 * dayS}}
	got, err = chquery.Funnel(t.Context(), conn, q1("quarter", "source"), 0)
	check(t, "funnel by source", got, err, []chquery.FunnelRow{event, web})

	// Filtered to territory T2 (L2, L4), weekly: L2 in the week of Monday Jan 5, L4 in the week
	// of Monday Feb 2.
	s := q1("week", "")
	s.Filters.TerritoryIDs = []string{"T2"}
	got, err = chquery.Funnel(t.Context(), conn, s, 0)
	check(t, "funnel T2 weekly", got, err, []chquery.FunnelRow{
		{PeriodStart: day(1, 5), Created: 1, Reached: [5]uint64{1, 1, 1, 1, 0},
			P50: [5]int64{2 * dayS, 3 * dayS, 0, 5 * dayS}, P90: [5]int64{2 * dayS, 3 * dayS, 0, 5 * dayS}},
		{PeriodStart: day(2, 2), Created: 1, Reached: [5]uint64{1}, P50: [5]int64{45 * dayS}, P90: [5]int64{45 * dayS}},
	})
}

func testStageMetrics(t *testing.T, conn driver.Conn) {
	// Q1, no breakdown. Entries: S1 O1, O2, O3, O4, O6 = 5; S2 O1, O2, O3 = 3; S3 O1 = 1.
	// Exits (all entered in Q1):
	//   S1: O1 fwd 5 d, O2 fwd 3 d, O3 fwd 7 d, O6 won 9 d → advanced 4, lost 0;
	//       [3,5,7,9] d: avg 6 d, p50 [2] = 7 d, p90 [⌊3.6⌋=3] = 9 d
	//   S2: O1 fwd 10 d, O2 lost 12 d → advanced 1, lost 1; avg 11 d, p50 [1] = 12 d, p90 12 d
	//   S3: O1 won 15 d → advanced 1; 15 d everywhere
	got, err := chquery.StageMetrics(t.Context(), conn, q1("", ""))
	check(t, "stages", got, err, []chquery.StageRow{
		{PipelineID: "P1", StageID: "S1", StageName: "Qualify", Entered: 5, Advanced: 4, AvgS: float64(6 * dayS), P50S: 7 * dayS, P90S: 9 * dayS},
		{PipelineID: "P1", StageID: "S2", StageName: "Propose", Entered: 3, Advanced: 1, Lost: 1, AvgS: float64(11 * dayS), P50S: 12 * dayS, P90S: 12 * dayS},
		{PipelineID: "P1", StageID: "S3", StageName: "Negotiate", Entered: 1, Advanced: 1, AvgS: float64(15 * dayS), P50S: 15 * dayS, P90S: 15 * dayS},
	})

	// From Feb 1: entries S1 O3 (Feb 1), O4, O6 = 3; S2 O3 (Feb 8) = 1. Exits tied to those
	// entries: S1 O3 7 d, O6 9 d → advanced 2, avg 8 d, p50 [1] = 9 d, p90 9 d. O1's and O2's exits
	// belong to January entries, so S2 has no exit and S3 no row.
	s := q1("", "owner")
	s.From = day(2, 1)
	got, err = chquery.StageMetrics(t.Context(), conn, s)
	// By owner: u1 = O3, O6 in S1 and O3 in S2; u2 = O4 in S1.
	check(t, "stages from Feb by owner", got, err, []chquery.StageRow{
		{PipelineID: "P1", StageID: "S1", StageName: "Qualify", Key: "u1", Entered: 2, Advanced: 2, AvgS: float64(8 * dayS), P50S: 9 * dayS, P90S: 9 * dayS},
		{PipelineID: "P1", StageID: "S1", StageName: "Qualify", Key: "u2", Entered: 1},
		{PipelineID: "P1", StageID: "S2", StageName: "Propose", Key: "u1", Entered: 1},
	})
}

func testSalesVelocity(t *testing.T, conn driver.Conn) {
	// EUR, closed in Q1, by month (O5 is USD: left out).
	//   Feb: O1 won 10,000 (cycle Jan 15 → Feb 14 = 30 d), O2 lost → win rate 1/2 = 0.5.
	//        Open at Mar 1: O3 (created Feb 1), O4 (Feb 5); O6 is created Mar 1, not before → 2.
	//        velocity = 2 × 0.5 × 10,000 / 30 = 333.333… EUR/day
	//   Mar: O6 won 5,000 (cycle 9 d), win rate 1. Open at Apr 1: O3, O4 → 2.
	//        velocity = 2 × 1 × 5,000 / 9 = 1,111.111… EUR/day
	got, err := chquery.SalesVelocity(t.Context(), conn, q1("month", ""), "EUR")
	check(t, "velocity", got, err, []chquery.VelocityRow{
		{PeriodStart: day(2, 1), OpenOpportunities: 2, Won: 1, Lost: 1, WinRate: 0.5, AvgDealMicros: 10_000e6,
			SalesCycleDays: 30, VelocityMicrosPerDay: 2 * 0.5 * 10_000e6 / 30},
		{PeriodStart: day(3, 1), OpenOpportunities: 2, Won: 1, WinRate: 1, AvgDealMicros: 5_000e6,
			SalesCycleDays: 9, VelocityMicrosPerDay: 2 * 5_000e6 / 9},
	})

	// By owner: Feb u1 = O1 won (open at Mar 1: O3) → 1 × 1 × 10,000 / 30;
	//           Feb u2 = O2 lost (open: O4) → win rate 0, velocity 0;
	//           Mar u1 = O6 won (open at Apr 1: O3) → 1 × 1 × 5,000 / 9.
	got, err = chquery.SalesVelocity(t.Context(), conn, q1("month", "owner"), "EUR")
	check(t, "velocity by owner", got, err, []chquery.VelocityRow{
		{PeriodStart: day(2, 1), Key: "u1", OpenOpportunities: 1, Won: 1, WinRate: 1, AvgDealMicros: 10_000e6,
			SalesCycleDays: 30, VelocityMicrosPerDay: 10_000e6 / 30},
		{PeriodStart: day(2, 1), Key: "u2", OpenOpportunities: 1, Lost: 1},
		{PeriodStart: day(3, 1), Key: "u1", OpenOpportunities: 1, Won: 1, WinRate: 1, AvgDealMicros: 5_000e6,
			SalesCycleDays: 9, VelocityMicrosPerDay: 5_000e6 / 9},
	})

	// USD: O5 won Feb 20 (3,000, cycle Jan 10 → Feb 20 = 41 d), nothing open.
	got, err = chquery.SalesVelocity(t.Context(), conn, q1("year", ""), "USD")
	check(t, "velocity USD", got, err, []chquery.VelocityRow{
		{PeriodStart: day(1, 1), Won: 1, WinRate: 1, AvgDealMicros: 3_000e6, SalesCycleDays: 41},
	})
}

func testForecast(t *testing.T, conn driver.Conn) {
	// EUR, close dates in Q1, by month.
	//   Feb: closed won O1 (Feb 14) 10,000.
	//   Mar: open O3 (Mar 15) 6,000 × 0.5 = 3,000 and O4 (Mar 31) 2,000 × 0.2 = 400 → open 2,
	//        8,000, weighted 3,400; closed won O6 (Mar 10) 5,000.
	got, err := chquery.Forecast(t.Context(), conn, q1("month", ""), "EUR")
	check(t, "forecast", got, err, []chquery.ForecastRow{
		{PeriodStart: day(2, 1), ClosedWonMicros: 10_000e6},
		{PeriodStart: day(3, 1), OpenOpportunities: 2, OpenMicros: 8_000e6, WeightedMicros: 3_400e6, ClosedWonMicros: 5_000e6},
	})

	// By forecast category, the range ending Mar 31 00:00 (O4's close date is left out).
	s := q1("quarter", "forecast_category")
	s.To = day(3, 31)
	got, err = chquery.Forecast(t.Context(), conn, s, "EUR")
	check(t, "forecast by category", got, err, []chquery.ForecastRow{
		{PeriodStart: day(1, 1), Key: "closed", ClosedWonMicros: 15_000e6},
		{PeriodStart: day(1, 1), Key: "pipeline", OpenOpportunities: 1, OpenMicros: 6_000e6, WeightedMicros: 3_000e6},
	})
}

func testCampaignPerformance(t *testing.T, conn driver.Conn) {
	// C1, EUR, Q1:
	//   members 4 (L1, L2, L3, K1; L9 joined Apr 5);
	//   sent 4 (L1, L2, L3, K1), opened 2 (L1, L2 twice), clicked 1 (L1), responded 2 (L1 by
	//   its click and conversion, L3), converted 1 (L1);
	//   rates: open 2/4 = 0.5, click 1/4 = 0.25, response 2/4 = 0.5, conversion 1/4 = 0.25;
	//   cost 1,000 + 500 = 1,500 (USD 300 and the Apr 2 entry left out);
	//   leads 1 (L1; L7 is merged away) → 1,500 per lead; opportunities 1 (O1) → 1,500 each;
	//   influence: O1 (created Jan 15; L1 joined C1 Jan 3, C2 Jan 10) and O2 (created Jan 20; L2
	//   joined C2 Jan 5, C1 Jan 11) → pipeline 10,000 + 4,000 = 14,000, won 10,000 (O1);
	//   roi (10,000 − 1,500) / 1,500 = 5.666…;
	//   O1's touches before Jan 15: C1 Jan 3 (join, sent), Jan 4 (opened, clicked), C2 Jan 10
	//   (join, sent) → first touch C1, last touch C2: C1 first-touch won 10,000, last-touch 0.
	// C2: members 2, sent 1 (L1), influence 14,000 / 10,000, no cost → roi 0, first-touch won 0
	//   (O2's first touch was C2, but O2 was lost), last-touch won 10,000.
	// C3: K1 joined Feb 20, after O1's creation: members 1, nothing else.
	c1 := chquery.CampaignRow{CampaignID: "C1", Name: "Spring webinar", Channel: "webinar", Members: 4, Sent: 4, Opened: 2,
		Clicked: 1, Responded: 2, Converted: 1, OpenRate: 0.5, ClickRate: 0.25, ResponseRate: 0.5, ConversionRate: 0.25,
		CostMicros: 1_500e6, Leads: 1, CostPerLeadMicros: 1_500e6, Opportunities: 1, CostPerOpportunityMicros: 1_500e6,
		InfluencedPipelineMicros: 14_000e6, InfluencedWonMicros: 10_000e6, ROI: 8_500.0 / 1_500,
		FirstTouchWonMicros: 10_000e6}
	c2 := chquery.CampaignRow{CampaignID: "C2", Name: "Newsletter", Channel: "email", Members: 2, Sent: 1,
		InfluencedPipelineMicros: 14_000e6, InfluencedWonMicros: 10_000e6, LastTouchWonMicros: 10_000e6}
	c3 := chquery.CampaignRow{CampaignID: "C3", Name: "Late", Channel: "social", Members: 1}
	got, err := chquery.CampaignPerformance(t.Context(), conn, q1("", ""), "EUR")
	check(t, "campaigns", got, err, []chquery.CampaignRow{c1, c2, c3})

	s := q1("", "")
	s.Filters.CampaignIDs = []string{"C1"}
	got, err = chquery.CampaignPerformance(t.Context(), conn, s, "EUR")
	check(t, "campaign C1", got, err, []chquery.CampaignRow{c1})
}

func testTimeline(t *testing.T, conn driver.Conn) {
	// A1's events: itself, its contact K1, the converted lead L1, its opportunities O1 and O3,
	// and the memberships of L1 and K1 (M-C1-L1, M-C1-K1); not L2, O2 or tenant t2's A1.
	// Newest first, ties on time by stream then sequence, descending.
	want := []string{
		"CRM_CAMPAIGN/8",  // Feb 20
		"CRM_PIPELINE/9",  // Feb 14
		"CRM_PIPELINE/10", // Feb 1
		"CRM_PIPELINE/3",  // Jan 15
		"CRM_LEADS/7",     // Jan 15
		"CRM_LEADS/6",     // Jan 15
		"CRM_LEADS/5",     // Jan 15
		"CRM_LEADS/1",     // Jan 5
		"CRM_CAMPAIGN/4",  // Jan 3
	}
	var got []string
	var after *chquery.Cursor
	for page := 0; ; page++ {
		evs, err := chquery.Timeline(t.Context(), conn, tenant, "A1", after, 4)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			got = append(got, fmt.Sprintf("%s/%d", e.Stream, e.Seq))
		}
		if len(evs) < 4 {
			break
		}
		last := evs[len(evs)-1]
		after = &chquery.Cursor{At: last.At, Stream: last.Stream, Seq: last.Seq}
		if page > 5 {
			t.Fatal("no end")
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("timeline:\n got %v\nwant %v", got, want)
	}
}

// check compares rows, floats to 1e-9 relative.
func check[T any](t *testing.T, what string, got []T, err error, want []T) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, want %d:\n got %+v\nwant %+v", what, len(got), len(want), got, want)
		return
	}
	for i := range got {
		if !approx(reflect.ValueOf(got[i]), reflect.ValueOf(want[i])) {
			t.Errorf("%s row %d:\n got %+v\nwant %+v", what, i, got[i], want[i])
		}
	}
}

func approx(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Float64:
		x, y := a.Float(), b.Float()
		return x == y || math.Abs(x-y) <= 1e-9*math.Max(math.Abs(x), math.Abs(y))
	case reflect.Struct:
		if a.Type() == reflect.TypeOf(time.Time{}) {
			return a.Interface().(time.Time).Equal(b.Interface().(time.Time))
		}
		for i := range a.NumField() {
			if !approx(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Array:
		for i := range a.Len() {
			if !approx(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}
