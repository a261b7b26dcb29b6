package grpc_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcerr"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
	"github.com/evcrm/evcrm/services/analytics/internal/app"
	grpcport "github.com/evcrm/evcrm/services/analytics/internal/ports/grpc"
)

func TestMain(m *testing.M) { testkit.Main(m) }

var (
	jan1 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	apr1 = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	q1   = &analyticsv1.TimeRange{From: timestamppb.New(jan1), To: timestamppb.New(apr1)}
)

func callerCtx(t *testing.T) context.Context { return reqctx.WithTenant(t.Context(), "t1") }

// TestBadParameters: every malformed query is InvalidArgument naming the offending fields, and
// is refused before anything reaches ClickHouse (the app here has none).
func TestBadParameters(t *testing.T) {
	t.Parallel()
	s := grpcport.NewServer(app.New(app.Deps{}))
	reversed := &analyticsv1.TimeRange{From: timestamppb.New(apr1), To: timestamppb.New(jan1)}
	tooLong := &analyticsv1.TimeRange{From: timestamppb.New(jan1), To: timestamppb.New(jan1.AddDate(10, 0, 1))}
	tests := []struct {
		name   string
		call   func(context.Context) error
		fields []string
	}{
		{"funnel without range", func(ctx context.Context) error {
			_, err := s.GetFunnel(ctx, &analyticsv1.GetFunnelRequest{})
			return err
		}, []string{"range.from"}},
		{"funnel range reversed", func(ctx context.Context) error {
			_, err := s.GetFunnel(ctx, &analyticsv1.GetFunnelRequest{Range: reversed})
			return err
		}, []string{"range.to"}},
		{"funnel range over 10 years", func(ctx context.Context) error {
			_, err := s.GetFunnel(ctx, &analyticsv1.GetFunnelRequest{Range: tooLong})
			return err
		}, []string{"range.to"}},
		{"funnel by pipeline, pipeline filter, bad period, negative window", func(ctx context.Context) error {
			_, err := s.GetFunnel(ctx, &analyticsv1.GetFunnelRequest{Range: q1, Period: 42,
				Breakdown:        analyticsv1.Breakdown_BREAKDOWN_PIPELINE,
				Filters:          &analyticsv1.Filters{PipelineIds: []string{"P1"}, Sources: []string{""}},
				ConversionWindow: durationpb.New(-time.Hour)})
			return err
		}, []string{"period", "breakdown", "filters.sources[0]", "filters.pipeline_ids", "conversion_window"}},
		{"stage metrics by territory", func(ctx context.Context) error {
			_, err := s.GetStageMetrics(ctx, &analyticsv1.GetStageMetricsRequest{Range: q1,
				Breakdown: analyticsv1.Breakdown_BREAKDOWN_TERRITORY,
				Filters:   &analyticsv1.Filters{TerritoryIds: []string{"T1"}}})
			return err
		}, []string{"breakdown", "filters.territory_ids"}},
		{"velocity without currency", func(ctx context.Context) error {
			_, err := s.GetSalesVelocity(ctx, &analyticsv1.GetSalesVelocityRequest{Range: q1})
			return err
		}, []string{"currency"}},
		{"velocity by forecast category, lower-case currency", func(ctx context.Context) error {
			_, err := s.GetSalesVelocity(ctx, &analyticsv1.GetSalesVelocityRequest{Range: q1, Currency: "eur",
				Breakdown: analyticsv1.Breakdown_BREAKDOWN_FORECAST_CATEGORY})
			return err
		}, []string{"breakdown", "currency"}},
		{"forecast with unknown breakdown", func(ctx context.Context) error {
			_, err := s.GetForecast(ctx, &analyticsv1.GetForecastRequest{Range: q1, Currency: "EUR", Breakdown: 99})
			return err
		}, []string{"breakdown"}},
		{"campaigns without currency and range", func(ctx context.Context) error {
			_, err := s.GetCampaignPerformance(ctx, &analyticsv1.GetCampaignPerformanceRequest{CampaignIds: []string{""}})
			return err
		}, []string{"range.from", "campaign_ids[0]", "currency"}},
		{"timeline without account, page too large", func(ctx context.Context) error {
			_, err := s.GetTimeline(ctx, &analyticsv1.GetTimelineRequest{PageSize: 1001})
			return err
		}, []string{"account_id", "page_size"}},
		{"timeline with a forged token", func(ctx context.Context) error {
			_, err := s.GetTimeline(ctx, &analyticsv1.GetTimelineRequest{AccountId: "A1", PageToken: "bm90IGEgdG9rZW4"})
			return err
		}, []string{"page_token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := callerCtx(t)
			st := grpcerr.ToStatus(ctx, tt.call(ctx))
			if st.Code() != codes.InvalidArgument {
				t.Fatalf("code %v (%v), want InvalidArgument", st.Code(), st.Message())
			}
			var got []string
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, v := range br.GetFieldViolations() {
						got = append(got, v.GetField())
					}
				}
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.fields))
			if !slices.Equal(got, want) {
				t.Errorf("field violations %v, want %v", got, want)
			}
		})
	}
}

// TestTokenOfAnotherAccount: a page token is tied to the account it was issued for.
func TestTokenOfAnotherAccount(t *testing.T) {
	t.Parallel()
	ch := testkit.SharedClickHouse(t)
	conn := ch.ConnDatabase(t, ch.NewDatabase(t))
	if _, err := chschema.Migrate(t.Context(), conn); err != nil {
		t.Fatal(err)
	}
	b, err := conn.PrepareBatch(t.Context(), "INSERT INTO events (tenant, stream, seq, aggregate_id, occurred_at)")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := b.Append("t1", "CRM_LEADS", uint64(i+1), "A1", jan1.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	s := grpcport.NewServer(app.New(app.Deps{ClickHouse: conn}))
	ctx := callerCtx(t)
	first, err := s.GetTimeline(ctx, &analyticsv1.GetTimelineRequest{AccountId: "A1", PageSize: 2})
	if err != nil || len(first.GetEvents()) != 2 || first.GetNextPageToken() == "" {
		t.Fatalf("first page: %v, %v", first, err)
	}
	second, err := s.GetTimeline(ctx, &analyticsv1.GetTimelineRequest{AccountId: "A1", PageSize: 2, PageToken: first.GetNextPageToken()})
	if err != nil || len(second.GetEvents()) != 1 || second.GetNextPageToken() != "" || second.GetEvents()[0].GetSequence() != 1 {
		t.Fatalf("second page: %v, %v", second, err)
	}
	_, err = s.GetTimeline(ctx, &analyticsv1.GetTimelineRequest{AccountId: "A2", PageToken: first.GetNextPageToken()})
	if c := grpcerr.ToStatus(ctx, err).Code(); c != codes.InvalidArgument {
		t.Errorf("token of A1 for A2: %v, want InvalidArgument", c)
	}
	_, err = s.GetTimeline(reqctx.WithTenant(t.Context(), "t2"), &analyticsv1.GetTimelineRequest{AccountId: "A1", PageToken: first.GetNextPageToken()})
	if c := grpcerr.ToStatus(ctx, err).Code(); c != codes.InvalidArgument {
		t.Errorf("token of t1 for t2: %v, want InvalidArgument", c)
	}
}

// TestForecastMoney checks the mapping of a result to the wire: micros to units and nanos, the
// weighted amount rounded half away from zero.
func TestForecastMoney(t *testing.T) {
	t.Parallel()
	ch := testkit.SharedClickHouse(t)
	conn := ch.ConnDatabase(t, ch.NewDatabase(t))
	if _, err := chschema.Migrate(t.Context(), conn); err != nil {
		t.Fatal(err)
	}
	b, err := conn.PrepareBatch(t.Context(), "INSERT INTO opportunities (tenant, opportunity_id, seq, status, probability, "+
		"amount_micros, currency, expected_close_date, created_at)")
	if err != nil {
		t.Fatal(err)
	}
	// 1,234.567891 EUR at 0.5: weighted 617,283,945.5 micros → 617.283946 EUR.
	if err := b.Append("t1", "O1", uint64(1), "open", 0.5, int64(1_234_567_891), "EUR", jan1.AddDate(0, 1, 0), jan1); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	s := grpcport.NewServer(app.New(app.Deps{ClickHouse: conn}))
	got, err := s.GetForecast(callerCtx(t), &analyticsv1.GetForecastRequest{Range: q1, Currency: "EUR",
		Period: analyticsv1.Period_PERIOD_QUARTER})
	if err != nil {
		t.Fatal(err)
	}
	want := &analyticsv1.GetForecastResponse{Rows: []*analyticsv1.ForecastRow{{
		PeriodStart: timestamppb.New(jan1), OpenOpportunities: 1,
		OpenAmount:     &commonv1.Money{CurrencyCode: "EUR", Units: 1234, Nanos: 567_891_000},
		WeightedAmount: &commonv1.Money{CurrencyCode: "EUR", Units: 617, Nanos: 283_946_000},
		ClosedWon:      &commonv1.Money{CurrencyCode: "EUR"},
	}}}
	if !proto.Equal(got, want) {
		t.Errorf("forecast:\n got %v\nwant %v", got, want)
	}
}

// TestClickHouseDown: a store that cannot be reached is Unavailable (the client may retry),
// and a caller without a tenant is Unauthenticated.
func TestClickHouseDown(t *testing.T) {
	t.Parallel()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{"127.0.0.1:1"}, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s := grpcport.NewServer(app.New(app.Deps{ClickHouse: conn}))
	ctx := callerCtx(t)
	_, err = s.GetSalesVelocity(ctx, &analyticsv1.GetSalesVelocityRequest{Range: q1, Currency: "EUR"})
	if c := grpcerr.ToStatus(ctx, err).Code(); c != codes.Unavailable {
		t.Errorf("ClickHouse down: %v (%v), want Unavailable", c, err)
	}
	_, err = s.GetSalesVelocity(t.Context(), &analyticsv1.GetSalesVelocityRequest{Range: q1, Currency: "EUR"})
	if c := grpcerr.ToStatus(ctx, err).Code(); c != codes.Unauthenticated {
		t.Errorf("no tenant: %v, want Unauthenticated", c)
	}
}
