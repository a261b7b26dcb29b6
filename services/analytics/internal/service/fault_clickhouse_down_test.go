package service_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/eventstore"
	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/testkit"
	analyticsgrpc "github.com/evcrm/evcrm/services/analytics/internal/ports/grpc"
	"github.com/evcrm/evcrm/services/analytics/internal/ports/projector"
)

// TestFaultClickHouseDownUnderLoad is issue 11's ClickHouse outage fault test (the shorter
// TestProjectorRidesOutClickHouseOutage checks a 3 s outage without load on the query side).
//
// Fault: the ClickHouse server process is stopped for 12 s (30 s with -soak / EVCRM_SOAK=1)
// while events are appended and queries are made, then started again on the same data. 12 s
// already reaches the projector's steady retry pace (its store retries back off to one every
// 5 s after about 6 s), so the soak run only lengthens the same regime.
//
// Load: one writer appending a LeadCreated every 5 ms (about 200 events/s, each on its own
// lead); a client calling GetSalesVelocity through the real gRPC stack every 250 ms.
//
// Invariants: during the outage every query answers UNAVAILABLE (never another code, never
// garbage); the projector's memory is bounded: it holds at most one batch per stream (the
// analytics-CRM_LEADS consumer's acks pending never exceed the batch size while the events
// waiting in the stream grow; heap and goroutines are logged); after ClickHouse is back the
// projector resumes by itself, queries answer again, and ClickHouse holds every appended event
// exactly once; nothing is dead-lettered.
func TestFaultClickHouseDownUnderLoad(t *testing.T) {
	t.Parallel()
	outage := 12 * time.Second
	if testkit.Soak() {
		outage = 30 * time.Second
	}
	const batchSize = 50 // env.start's
	ch := testkit.StartClickHouse(t)
	e := newEnv(t, ch)
	svc, stop := e.start()
	defer stop()
	g := testkit.StartGRPC(t, func(s *grpcserver.Server) { analyticsgrpc.Register(s, svc.App) })
	client := analyticsv1.NewAnalyticsServiceClient(g.Conn)
	query := func() error {
		ctx, cancel := context.WithTimeout(testkit.As(t, "acme", "analyst-1"), 10*time.Second)
		defer cancel()
		_, err := client.GetSalesVelocity(ctx, &analyticsv1.GetSalesVelocityRequest{Currency: "EUR",
			Range: &analyticsv1.TimeRange{From: timestamppb.New(day(0)), To: timestamppb.New(day(90))}})
		return err
	}
	if err := query(); err != nil {
		t.Fatalf("query before the outage: %v", err)
	}

	var appended atomic.Int64
	writerDone := make(chan struct{})
	stopWriter := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i := 0; ; i++ {
			select {
			case <-stopWriter:
				return
			case <-time.After(5 * time.Millisecond):
			}
			id := fmt.Sprintf("d%d", i)
			ref := eventstore.Ref{Tenant: "acme", Type: "lead", ID: id}
			if _, err := e.store.Append(context.Background(), ref, eventstore.Position{},
				ev(day(1), &leadsv1.LeadCreated{Lead: &leadsv1.Lead{Id: id, Status: leadsv1.LeadStatus_LEAD_STATUS_NEW}})); err != nil {
				t.Errorf("append: %v", err)
				return
			}
			appended.Add(1)
		}
	}()
	defer func() {
		select {
		case <-stopWriter:
		default:
			close(stopWriter)
		}
		<-writerDone
	}()

	time.Sleep(time.Second)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap0, goroutines0 := ms.HeapInuse, runtime.NumGoroutine()
	if err := ch.Server().Stop(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	cons, err := e.js.Consumer(t.Context(), eventstore.LeadsStream.Name, projector.ConsumerName(projector.DefaultName, eventstore.LeadsStream.Name))
	if err != nil {
		t.Fatal(err)
	}
	var queries, maxAckPending int
	var maxHeap uint64
	var maxGoroutines int
	var pendingAtEnd uint64
	for time.Since(down) < outage {
		// Let the outage be noticed before requiring UNAVAILABLE: a query already running
		// when the server stopped may end either way.
		if time.Since(down) > 500*time.Millisecond {
			if err := query(); status.Code(err) != codes.Unavailable {
				t.Errorf("query %v into the outage: %v, want Unavailable", time.Since(down).Round(time.Millisecond), err)
			}
			queries++
		}
		info, err := cons.Info(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		maxAckPending = max(maxAckPending, info.NumAckPending)
		pendingAtEnd = info.NumPending
		runtime.ReadMemStats(&ms)
		maxHeap, maxGoroutines = max(maxHeap, ms.HeapInuse), max(maxGoroutines, runtime.NumGoroutine())
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("outage %v: %d queries, %d events appended, at most %d acks pending, %d events waiting at the end, heap %d→%d MiB, goroutines %d→%d",
		outage, queries, appended.Load(), maxAckPending, pendingAtEnd, heap0>>20, maxHeap>>20, goroutines0, maxGoroutines)
	if maxAckPending > batchSize {
		t.Errorf("%d acks pending during the outage: the projector holds more than one batch (%d)", maxAckPending, batchSize)
	}
	if pendingAtEnd == 0 {
		t.Error("no events waited during the outage: the load did not reach the consumer")
	}
	// Heap and goroutines are logged, not asserted: the test process runs the package's other
	// tests in parallel (the kill test's 64 writers among them), so their figures are not the
	// projector's alone. The bound on memory is the acks-pending check above: nothing beyond
	// one batch per stream is fetched while ClickHouse is down.

	ch.Restart(t)
	close(stopWriter)
	<-writerDone
	waitProjected(t, svc.App)
	if err := query(); err != nil {
		t.Errorf("query after the outage: %v", err)
	}
	n := fmt.Sprint(appended.Load())
	equalLines(t, "events", lines(t, e.conn, "count(),uniqExact(event_id)", "FROM events FINAL"), []string{n + "|" + n})
	equalLines(t, "leads", lines(t, e.conn, "count()", "FROM leads FINAL"), []string{n})
	if dlq, err := e.js.Stream(t.Context(), projection.DefaultDeadLetterStream); err == nil {
		if info, err := dlq.Info(t.Context()); err == nil && info.State.Msgs != 0 {
			t.Errorf("%d events dead-lettered during the outage", info.State.Msgs)
		}
	}
}
