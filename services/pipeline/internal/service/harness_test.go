package service_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/testkit"
	pipelinegrpc "github.com/evcrm/evcrm/services/pipeline/internal/ports/grpc"
	"github.com/evcrm/evcrm/services/pipeline/internal/service"
)

// harness runs the pipeline service on an embedded JetStream behind the platform's gRPC stack.
type harness struct {
	nats   *testkit.NATS
	nc     *nats.Conn
	client pipelinev1.PipelineServiceClient
	stop   func()
}

func start(t testing.TB, n *testkit.NATS, dataDir string) *harness {
	t.Helper()
	nc := n.Connect(t)
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, nc, service.Options{DataDir: dataDir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- svc.Projector.Run(ctx) }()
	g := testkit.StartGRPC(t, func(s *grpcserver.Server) {
		pipelinev1.RegisterPipelineServiceServer(s, pipelinegrpc.NewServer(svc.App))
	})

	var once sync.Once
	h := &harness{nats: n, nc: nc, client: pipelinev1.NewPipelineServiceClient(g.Conn)}
	h.stop = func() {
		once.Do(func() {
			g.Stop()
			cancel()
			<-done
			require.NoError(t, svc.Close())
		})
	}
	t.Cleanup(h.stop)
	return h
}

var as = testkit.As

// streamMsgs is how many events CRM_PIPELINE holds.
func (h *harness) streamMsgs(t *testing.T) uint64 {
	t.Helper()
	js, err := jetstream.New(h.nc)
	require.NoError(t, err)
	s, err := js.Stream(context.Background(), "CRM_PIPELINE")
	require.NoError(t, err)
	info, err := s.Info(context.Background())
	require.NoError(t, err)
	return info.State.Msgs
}

var violations = testkit.Violations

func usd(units int64) *commonv1.Money { return &commonv1.Money{CurrencyCode: "USD", Units: units} }

func dec(s string) *commonv1.Decimal { return &commonv1.Decimal{Value: s} }

// inDays is the date d days from today (UTC) in the wire form.
func inDays(d int) string { return time.Now().UTC().AddDate(0, 0, d).Format(time.DateOnly) }

func newOpportunity(name string, amount int64, closeInDays int) *pipelinev1.Opportunity {
	return &pipelinev1.Opportunity{Name: name, AccountId: "acct-1", Amount: usd(amount), ExpectedCloseDate: inDays(closeInDays),
		Source: pipelinev1.OpportunitySource_OPPORTUNITY_SOURCE_REFERRAL}
}

func after(r *commonv1.WriteResult) *commonv1.ReadOptions {
	return &commonv1.ReadOptions{MinSequence: r.GetSequence()}
}
