package projection_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/testkit"
)

const (
	leads    = "CRM_LEADS"
	pipeline = "CRM_PIPELINE"
	dlq      = projection.DefaultDeadLetterStream
)

// A W3C trace context as the event store would send it.
const testTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// startJetStream starts a server with the event streams laid out as in production.
func startJetStream(t *testing.T) (*testkit.NATS, jetstream.JetStream) {
	t.Helper()
	n := testkit.StartNATS(t)
	js := n.JetStream(t)
	ctx := testContext(t)
	for name, subjects := range map[string][]string{
		leads:    {"crm.*.lead.>", "crm.*.contact.>", "crm.*.account.>"},
		pipeline: {"crm.*.opportunity.>"},
	} {
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{
			Name: name, Subjects: subjects, Storage: jetstream.FileStorage,
			DenyDelete: true, DenyPurge: true,
		})
		require.NoError(t, err)
	}
	return n, js
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var eventIDs atomic.Uint64

// publish appends one well-formed event and returns its stream sequence.
func publish(t *testing.T, js jetstream.JetStream, aggType, aggID, eventType string) uint64 {
	t.Helper()
	env := &eventsv1.Envelope{
		EventId:          fmt.Sprintf("evt-%d", eventIDs.Add(1)),
		TenantId:         "acme",
		AggregateType:    aggType,
		AggregateId:      aggID,
		AggregateVersion: 1,
		EventType:        "crm.test.v1." + eventType,
		OccurredAt:       timestamppb.Now(),
		RecordedAt:       timestamppb.Now(),
	}
	data, err := proto.Marshal(env)
	require.NoError(t, err)
	return publishRaw(t, js, fmt.Sprintf("crm.acme.%s.%s.%s", aggType, aggID, eventType), data)
}

func publishRaw(t *testing.T, js jetstream.JetStream, subject string, data []byte) uint64 {
	t.Helper()
	msg := nats.NewMsg(subject)
	msg.Data = data
	msg.Header.Set("traceparent", testTraceparent)
	ack, err := js.PublishMsg(testContext(t), msg)
	require.NoError(t, err)
	return ack.Sequence
}

// publishLeads appends n lead events and returns their sequences.
func publishLeads(t *testing.T, js jetstream.JetStream, n int) []uint64 {
	t.Helper()
	seqs := make([]uint64, n)
	for i := range n {
		seqs[i] = publish(t, js, "lead", fmt.Sprintf("L%d", i), "LeadCreated")
	}
	return seqs
}

type evKey struct {
	stream string
	seq    uint64
}

// memSink is a read model that commits data and checkpoint in one step under a lock, the way
// a SQL sink would in one transaction. It is idempotent by (stream, sequence), as a durable
// sink must be, and records everything the tests assert on.
type memSink struct {
	// hook runs before the commit, outside the lock (it may block); an error aborts the batch.
	hook func(ctx context.Context, call int, evs []projection.Event) error

	mu          sync.Mutex
	calls       int
	checkpoint  map[string]uint64
	applied     map[evKey]int
	offers      map[evKey]int
	maxDeliver  map[evKey]uint64
	reoffered   int // events offered again after they were committed
	headersSeen int // events that arrived with the producer's traceparent
}

func newSink() *memSink {
	return &memSink{
		checkpoint: map[string]uint64{},
		applied:    map[evKey]int{},
		offers:     map[evKey]int{},
		maxDeliver: map[evKey]uint64{},
	}
}

func (s *memSink) Handle(ctx context.Context, evs []projection.Event) error {
	s.mu.Lock()
	s.calls++
	call := s.calls
	for _, e := range evs {
		k := evKey{e.Stream, e.Sequence}
		s.offers[k]++
		s.maxDeliver[k] = max(s.maxDeliver[k], e.Deliveries)
	}
	s.mu.Unlock()
	if s.hook != nil {
		if err := s.hook(ctx, call, evs); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range evs {
		k := evKey{e.Stream, e.Sequence}
		if s.applied[k] > 0 {
			s.reoffered++
			continue // idempotent: already applied
		}
		s.applied[k]++
		s.checkpoint[e.Stream] = max(s.checkpoint[e.Stream], e.Sequence)
		if e.Header.Get("traceparent") == testTraceparent && e.SpanContext().IsValid() {
			s.headersSeen++
		}
	}
	return nil
}

func (s *memSink) Checkpoint(context.Context) (map[string]uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]uint64, len(s.checkpoint))
	for k, v := range s.checkpoint {
		out[k] = v
	}
	return out, nil
}

func (s *memSink) reofferedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reoffered
}

func (s *memSink) appliedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.applied)
}

// requireExactlyOnce asserts that exactly the given events were applied, each once, and
// none was offered again after being committed.
func (s *memSink) requireExactlyOnce(t *testing.T, want map[evKey]bool) {
	t.Helper()
	s.requireAppliedOnce(t, want)
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Zero(t, s.reoffered, "events offered again after commit")
}

// requireAppliedOnce asserts that exactly the given events were applied, each once: what a
// sink that is idempotent by (stream, sequence) guarantees even when events come again.
func (s *memSink) requireAppliedOnce(t *testing.T, want map[evKey]bool) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range want {
		require.Equalf(t, 1, s.applied[k], "event %v applied", k)
	}
	for k := range s.applied {
		require.Truef(t, want[k], "unexpected event %v applied", k)
	}
}

func keys(stream string, seqs ...uint64) map[evKey]bool {
	m := map[evKey]bool{}
	for _, s := range seqs {
		m[evKey{stream, s}] = true
	}
	return m
}

// mode builds a Runner of one kind, so behaviour tests run against both.
type mode struct {
	name string
	new  func(js jetstream.JetStream, cfg projection.Config, s *memSink) (*projection.Runner, error)
}

var modes = []mode{
	{"durable", func(js jetstream.JetStream, cfg projection.Config, s *memSink) (*projection.Runner, error) {
		return projection.NewDurable(js, cfg, s)
	}},
	{"ordered", func(js jetstream.JetStream, cfg projection.Config, s *memSink) (*projection.Runner, error) {
		return projection.NewOrdered(js, cfg, s)
	}},
}

// testConfig is fast: tiny backoff, small batches, few attempts.
func testConfig(name string, streams ...string) projection.Config {
	cfg := projection.Config{
		Name:       name,
		BatchSize:  10,
		MaxDeliver: 3,
		Backoff:    []time.Duration{10 * time.Millisecond, 20 * time.Millisecond},
		Logger:     testLogger(),
		// Explicit, so the tests do not depend on a global propagator being set.
		Propagator: propagation.TraceContext{},
	}
	for _, s := range streams {
		cfg.Sources = append(cfg.Sources, projection.Source{Stream: s})
	}
	return cfg
}

func testLogger() *slog.Logger {
	if os.Getenv("PROJECTION_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// running is a Runner started in the background.
type running struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

func start(t *testing.T, r *projection.Runner) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rn := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { rn.done <- r.Run(ctx) }()
	t.Cleanup(func() { rn.stop(t) })
	return rn
}

// stop cancels the Runner and waits for Run to return.
func (rn *running) stop(t *testing.T) {
	t.Helper()
	rn.once.Do(func() {
		rn.cancel()
		select {
		case rn.err = <-rn.done:
		case <-time.After(20 * time.Second):
			rn.err = fmt.Errorf("Run did not return 20s after cancel")
		}
	})
	require.NoError(t, rn.err)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventuallyf(t, cond, 20*time.Second, 5*time.Millisecond, "timed out waiting for %s", what)
}

// deadLetters reads the whole dead-letter stream.
func deadLetters(t *testing.T, js jetstream.JetStream) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := testContext(t)
	st, err := js.Stream(ctx, dlq)
	if err != nil {
		return nil
	}
	info, err := st.Info(ctx)
	require.NoError(t, err)
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		require.NoError(t, err)
		out = append(out, m)
	}
	return out
}

// metricValue reads one counter or gauge from a registry.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("metric %s%v not found", name, labels)
	return 0
}

func isBad(e projection.Event) bool { return strings.HasSuffix(e.Envelope.GetEventType(), ".Bad") }
