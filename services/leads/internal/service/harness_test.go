package service_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/testkit"
	leadsgrpc "github.com/evcrm/evcrm/services/leads/internal/ports/grpc"
	"github.com/evcrm/evcrm/services/leads/internal/service"
)

// harness runs the leads service on an embedded JetStream behind the platform's gRPC stack,
// with every gRPC service registered and (unless asked not to) every worker running, as
// cmd/leads runs it.
type harness struct {
	nats       *testkit.NATS
	nc         *nats.Conn
	js         jetstream.JetStream
	svc        *service.Service
	client     leadsv1.LeadsServiceClient
	accounts   leadsv1.AccountsServiceClient
	contacts   leadsv1.ContactsServiceClient
	activities leadsv1.ActivitiesServiceClient
	transfer   leadsv1.DataTransferServiceClient
	stop       func()
}

// harnessOptions vary the service a test starts.
type harnessOptions struct {
	// DataDir holds the read models; a temporary directory when empty.
	DataDir string
	// NoWorkers leaves the projectors and reactions stopped: the read models stay empty (the
	// benchmarks use it to measure the command path alone).
	NoWorkers bool
	// PipelineAddr and AfterConversionStep go to service.Options.
	PipelineAddr        string
	AfterConversionStep func(step string) error
	// AllowBackfill goes to service.Options (the service's -allow-backfill).
	AllowBackfill bool
}

func startService(t testing.TB, n *testkit.NATS, o harnessOptions) *harness {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	nc := n.Connect(t)
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, nc, service.Options{DataDir: o.DataDir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		PipelineAddr: o.PipelineAddr, AfterConversionStep: o.AfterConversionStep, AllowBackfill: o.AllowBackfill})
	require.NoError(t, err)
	var workers sync.WaitGroup
	if !o.NoWorkers {
		for _, w := range svc.Workers() {
			workers.Go(func() { _ = w.Run(ctx) })
		}
	}
	g := testkit.StartGRPC(t, func(s *grpcserver.Server) { leadsgrpc.Register(s, svc.App) })
	js, err := jetstream.New(nc)
	require.NoError(t, err)

	var once sync.Once
	h := &harness{nats: n, nc: nc, js: js, svc: svc,
		client:     leadsv1.NewLeadsServiceClient(g.Conn),
		accounts:   leadsv1.NewAccountsServiceClient(g.Conn),
		contacts:   leadsv1.NewContactsServiceClient(g.Conn),
		activities: leadsv1.NewActivitiesServiceClient(g.Conn),
		transfer:   leadsv1.NewDataTransferServiceClient(g.Conn),
	}
	h.stop = func() {
		once.Do(func() {
			g.Stop()
			cancel()
			workers.Wait()
			require.NoError(t, svc.Close())
		})
	}
	t.Cleanup(h.stop)
	return h
}

func start(t testing.TB, n *testkit.NATS, dataDir string) *harness {
	t.Helper()
	return startService(t, n, harnessOptions{DataDir: dataDir})
}

// startWith starts the service; without the workers its read models stay empty.
func startWith(t testing.TB, n *testkit.NATS, dataDir string, workers bool) *harness {
	t.Helper()
	return startService(t, n, harnessOptions{DataDir: dataDir, NoWorkers: !workers})
}

// leadsStreamMsgs counts the messages in CRM_LEADS (to prove a rejection appended nothing).
func (h *harness) leadsStreamMsgs(t testing.TB) uint64 {
	t.Helper()
	s, err := h.js.Stream(context.Background(), "CRM_LEADS")
	require.NoError(t, err)
	info, err := s.Info(context.Background())
	require.NoError(t, err)
	return info.State.Msgs
}
