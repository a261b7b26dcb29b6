package grpc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcerr"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
	"github.com/evcrm/evcrm/services/analytics/internal/app"
	grpcport "github.com/evcrm/evcrm/services/analytics/internal/ports/grpc"
)

// analyticsCall is one query RPC of AnalyticsService: its request type and the handler.
type analyticsCall struct {
	name string
	msg  func() proto.Message
	call func(context.Context, *grpcport.Server, proto.Message) error
}

func unary[R proto.Message, S any](name string, newMsg func() R, h func(*grpcport.Server, context.Context, R) (S, error)) analyticsCall {
	return analyticsCall{name: name, msg: func() proto.Message { return newMsg() },
		call: func(ctx context.Context, s *grpcport.Server, m proto.Message) error {
			_, err := h(s, ctx, m.(R))
			return err
		}}
}

var analyticsCalls = []analyticsCall{
	unary("GetFunnel", func() *analyticsv1.GetFunnelRequest { return &analyticsv1.GetFunnelRequest{} }, (*grpcport.Server).GetFunnel),
	unary("GetStageMetrics", func() *analyticsv1.GetStageMetricsRequest { return &analyticsv1.GetStageMetricsRequest{} }, (*grpcport.Server).GetStageMetrics),
	unary("GetSalesVelocity", func() *analyticsv1.GetSalesVelocityRequest { return &analyticsv1.GetSalesVelocityRequest{} }, (*grpcport.Server).GetSalesVelocity),
	unary("GetForecast", func() *analyticsv1.GetForecastRequest { return &analyticsv1.GetForecastRequest{} }, (*grpcport.Server).GetForecast),
	unary("GetCampaignPerformance", func() *analyticsv1.GetCampaignPerformanceRequest {
		return &analyticsv1.GetCampaignPerformanceRequest{}
	}, (*grpcport.Server).GetCampaignPerformance),
	unary("GetTimeline", func() *analyticsv1.GetTimelineRequest { return &analyticsv1.GetTimelineRequest{} }, (*grpcport.Server).GetTimeline),
}

// FuzzAnalyticsRequests feeds arbitrary wire bytes, as the request of the query RPC the first
// argument selects (funnel, stage metrics, velocity, forecast, campaign performance,
// timeline), to the gRPC handler over an app on a real ClickHouse with the migrated schema:
// the port's mapping (durations, timestamps), the app's checks (FuzzMetricParams fuzzes them
// alone) and, for an accepted request, the rendered query on ClickHouse. Properties: no panic,
// never Internal or Unknown (a value that reaches ClickHouse and breaks the query would be),
// a refusal as InvalidArgument names the fields, and each call answers within 10 s.
// GetProjectionStatus takes no input and Rebuild is the operator's. `go test -fuzz
// FuzzAnalyticsRequests -parallel 1 ./internal/ports/grpc` in services/analytics explores.
func FuzzAnalyticsRequests(f *testing.F) {
	q1 := &analyticsv1.TimeRange{From: timestamppb.New(jan1), To: timestamppb.New(apr1)}
	hostile := &analyticsv1.Filters{Sources: []string{"' OR 1=1 --"}, CampaignIds: []string{"x'); DROP TABLE events; --"},
		OwnerIds: []string{`\`, "\x00"}, TerritoryIds: []string{"%' UNION SELECT 1 --"}, PipelineIds: []string{"Ünïcødé ‮ 🙂"}}
	noTerritory := proto.Clone(hostile).(*analyticsv1.Filters) // stage metrics and forecast have no territory filter
	noTerritory.TerritoryIds = nil
	seeds := map[string][]proto.Message{
		"GetFunnel": {&analyticsv1.GetFunnelRequest{Range: q1, Period: 3, Breakdown: 1, ConversionWindow: durationpb.New(30 * 24 * time.Hour)},
			&analyticsv1.GetFunnelRequest{Range: q1, Filters: hostile, ConversionWindow: &durationpb.Duration{Seconds: 1, Nanos: -1}}},
		"GetStageMetrics":  {&analyticsv1.GetStageMetricsRequest{Range: q1, Filters: noTerritory}},
		"GetSalesVelocity": {&analyticsv1.GetSalesVelocityRequest{Range: q1, Period: 3, Currency: "EUR"}},
		"GetForecast": {&analyticsv1.GetForecastRequest{Range: q1, Currency: "EUR", Filters: noTerritory},
			&analyticsv1.GetForecastRequest{Range: &analyticsv1.TimeRange{From: timestamppb.New(apr1), To: timestamppb.New(jan1)}, Currency: "eur'"}},
		"GetCampaignPerformance": {&analyticsv1.GetCampaignPerformanceRequest{Range: q1, CampaignIds: []string{"c1", "' OR 1=1 --"}, Currency: "EUR"}},
		"GetTimeline": {&analyticsv1.GetTimelineRequest{AccountId: "A1", PageSize: 2},
			&analyticsv1.GetTimelineRequest{AccountId: "' OR 1=1 --", PageSize: -1, PageToken: strings.Repeat("x'", 100)}},
	}
	for i, c := range analyticsCalls {
		f.Add(uint8(i), []byte{})
		for _, m := range seeds[c.name] {
			b, err := proto.Marshal(m)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), b)
		}
	}
	ch := testkit.SharedClickHouse(f)
	conn := ch.ConnDatabase(f, ch.NewDatabase(f))
	if _, err := chschema.Migrate(context.Background(), conn); err != nil {
		f.Fatal(err)
	}
	s := grpcport.NewServer(app.New(app.Deps{ClickHouse: conn}))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		c := analyticsCalls[int(which)%len(analyticsCalls)]
		req := c.msg()
		if proto.Unmarshal(data, req) != nil {
			return // gRPC refuses it before any handler runs
		}
		ctx, cancel := context.WithTimeout(callerCtx(t), 10*time.Second)
		defer cancel()
		err := c.call(ctx, s, req)
		st := grpcerr.ToStatus(ctx, err)
		switch st.Code() {
		case codes.OK:
		case codes.Internal, codes.Unknown, codes.DeadlineExceeded:
			t.Fatalf("%s answered %v: %v", c.name, st.Code(), err)
		case codes.InvalidArgument:
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
					return
				}
			}
			t.Fatalf("%s answered InvalidArgument without field violations: %v", c.name, err)
		}
	})
}
