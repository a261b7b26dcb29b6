package service_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/telemetry"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/service"
)

// span is one finished span, from the in-memory exporter of this process or from the OTLP
// export of a service process, reduced to what the trace assertions need.
type span struct {
	service, name, kind string
	trace, id, parent   string
	group               string // messaging.consumer.group.name: which consumer processed
}

func (s span) String() string {
	return fmt.Sprintf("%s %q (%s %s) %s parent %s", s.service, s.name, s.kind, s.group, s.id, s.parent)
}

const groupAttr = "messaging.consumer.group.name"

// collector is an OTLP/gRPC trace receiver: the leads process exports its spans to it.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []span
}

func (c *collector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		svc := "?"
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				svc = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				group := ""
				for _, a := range s.GetAttributes() {
					if a.GetKey() == groupAttr {
						group = a.GetValue().GetStringValue()
					}
				}
				c.spans = append(c.spans, span{service: svc, name: s.GetName(), group: group,
					kind:  strings.ToLower(strings.TrimPrefix(s.GetKind().String(), "SPAN_KIND_")),
					trace: hex.EncodeToString(s.GetTraceId()), id: hex.EncodeToString(s.GetSpanId()),
					parent: hex.EncodeToString(s.GetParentSpanId())})
			}
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func (c *collector) snapshot() []span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]span(nil), c.spans...)
}

// TestOneTraceFromCommandToClickHouse follows one command through every hop of evcrm's
// asynchronous path and requires a single trace across them:
//
//	test client span → leads gRPC server span (LogActivity, leads process)
//	  → send ActivityLogged (event append, traceparent header)
//	    → process CRM_LEADS (leads' durable reaction leads-activity-engagement)
//	      → send EngagementRecorded… (the reaction's command appends)
//	        → process CRM_LEADS (analytics projector, this process) → ClickHouse insert
//	    → process CRM_LEADS (analytics projector) for ActivityLogged too
//
// The leads service runs as its real binary exporting over OTLP to a receiver in this test; the
// analytics projector runs in process with an in-memory exporter (tracetest). The projector
// runs with batches of one event: a batch of several events is a new root linked to each
// producer (libs/projection/tracing.go), which this test does not cover.
func TestOneTraceFromCommandToClickHouse(t *testing.T) {
	// Not parallel: the global tracer provider and the environment are this test's.
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(telemetry.Propagator())
	t.Cleanup(func() { otel.SetTracerProvider(prevTP); otel.SetTextMapPropagator(prevProp) })

	col := &collector{}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(gs, col)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	// The leads process exports every 100 ms rather than every 5 s.
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "100")

	e := newEnv(t, testkit.SharedClickHouse(t))
	ns := testkit.StartNATS(t)
	e.nc = ns.Connect(t)
	leadsBin := testkit.BuildBinary(t, "github.com/evcrm/evcrm/services/leads/cmd/leads")
	leads := testkit.StartProcess(t, leadsBin, ns, "-otlp-endpoint", "http://"+lis.Addr().String())

	svc, err := service.New(t.Context(), e.nc, service.Options{
		ClickHouse: service.ClickHouseOptions{Addr: e.ch.Addr(), Database: e.db, User: "default"},
		BatchSize:  1, BatchWait: time.Millisecond, Backoff: []time.Duration{100 * time.Millisecond},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, w := range svc.Workers() {
		wg.Go(func() { _ = w.Run(ctx) })
	}
	t.Cleanup(func() { cancel(); wg.Wait(); _ = svc.Close() })

	conn, err := grpc.NewClient("passthrough:///"+leads.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	call := testkit.As(t, "acme", "rep-1")
	lead, err := leadsv1.NewLeadsServiceClient(conn).CreateLead(call, &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{
		FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Company: "Analytical Engines",
		Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM}})
	if err != nil {
		t.Fatal(err)
	}
	waitProjected(t, svc.App)

	// The traced command.
	root, rootSpan := otel.Tracer("trace-e2e").Start(call, "test: log a call")
	logged, err := leadsv1.NewActivitiesServiceClient(conn).LogActivity(root, &leadsv1.LogActivityRequest{Activity: &leadsv1.Activity{
		Kind:    leadsv1.ActivityKind_ACTIVITY_KIND_CALL,
		Records: []*leadsv1.RecordRef{{Type: leadsv1.RecordType_RECORD_TYPE_LEAD, Id: lead.GetLead().GetId()}},
		Subject: "Intro call", Direction: leadsv1.ActivityDirection_ACTIVITY_DIRECTION_OUTBOUND, Duration: durationpb.New(10 * time.Minute)}})
	rootSpan.End()
	if err != nil {
		t.Fatal(err)
	}
	traceID := rootSpan.SpanContext().TraceID().String()

	// Wait for the reaction's events in ClickHouse, then for the spans of every hop.
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := lines(t, e.conn, "count()", "FROM events WHERE event_type IN ('ActivityLogged', 'EngagementRecorded')")
		if got[0] == "2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ActivityLogged and EngagementRecorded not projected: %v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitProjected(t, svc.App)

	var all []span
	deadline = time.Now().Add(30 * time.Second)
	for {
		all = inTrace(traceID, col.snapshot(), rec.Ended())
		if chainComplete(all) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	byID := map[string]span{}
	for _, s := range all {
		byID[s.id] = s
	}
	parentOf := func(s span) span { return byID[s.parent] }
	find := func(what string, ok func(span) bool) span {
		t.Helper()
		for _, s := range all {
			if ok(s) {
				return s
			}
		}
		t.Fatalf("no %s in trace %s; spans:\n%s", what, traceID, dump(all))
		return span{}
	}

	server := find("leads LogActivity server span", func(s span) bool {
		return s.service == "leads" && s.kind == "server" && strings.HasSuffix(s.name, "ActivitiesService/LogActivity")
	})
	if c := parentOf(server); c.kind != "client" || parentOf(c).name != "test: log a call" {
		t.Errorf("leads server span's parent is %v, want the test's client span under the root", c)
	}
	send1 := find("append of ActivityLogged", func(s span) bool {
		return s.service == "leads" && s.kind == "producer" && descends(s, server, byID)
	})
	reaction := find("leads reaction consumer span", func(s span) bool {
		return s.service == "leads" && s.kind == "consumer" && s.group == "leads-activity-engagement" && s.parent == send1.id
	})
	send2 := find("append of the reaction's command", func(s span) bool {
		return s.service == "leads" && s.kind == "producer" && descends(s, reaction, byID)
	})
	projected := find("analytics projector span for ActivityLogged", func(s span) bool {
		return s.service == "analytics-test" && s.group == "analytics-CRM_LEADS" && s.parent == send1.id
	})
	find("ClickHouse insert of the events under the projector span", func(s span) bool {
		return s.service == "analytics-test" && s.name == "clickhouse insert events" && descends(s, projected, byID)
	})
	find("analytics projector span for the reaction's events", func(s span) bool {
		return s.service == "analytics-test" && s.group == "analytics-CRM_LEADS" && s.parent == send2.id
	})
	equalLines(t, "activity in ClickHouse", lines(t, e.conn, "aggregate_id",
		"FROM events FINAL WHERE event_type = 'ActivityLogged'"), []string{logged.GetActivity().GetId()})
	t.Logf("trace %s:\n%s", traceID, dump(all))
}

// inTrace merges the spans of the leads process and of this process that belong to trace.
func inTrace(trace string, remote []span, local []sdktrace.ReadOnlySpan) []span {
	var out []span
	for _, s := range remote {
		if s.trace == trace {
			out = append(out, s)
		}
	}
	for _, s := range local {
		if s.SpanContext().TraceID().String() != trace {
			continue
		}
		parent := ""
		if s.Parent().IsValid() {
			parent = s.Parent().SpanID().String()
		}
		group := ""
		for _, a := range s.Attributes() {
			if string(a.Key) == groupAttr {
				group = a.Value.AsString()
			}
		}
		out = append(out, span{service: "analytics-test", name: s.Name(), kind: s.SpanKind().String(), group: group,
			trace: trace, id: s.SpanContext().SpanID().String(), parent: parent})
	}
	return out
}

// chainComplete reports whether both projector spans have arrived (the last hops), and the
// leads process has exported its reaction's producer span.
func chainComplete(all []span) bool {
	var projector, producers int
	for _, s := range all {
		switch {
		case s.service == "analytics-test" && s.group == "analytics-CRM_LEADS":
			projector++
		case s.service == "leads" && s.kind == "producer":
			producers++
		}
	}
	return projector >= 2 && producers >= 2
}

func descends(s, ancestor span, byID map[string]span) bool {
	for range 20 {
		p, ok := byID[s.parent]
		if !ok {
			return false
		}
		if p.id == ancestor.id {
			return true
		}
		s = p
	}
	return false
}

func dump(all []span) string {
	var b strings.Builder
	for _, s := range all {
		fmt.Fprintf(&b, "  %v\n", s)
	}
	return b.String()
}
