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

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/testkit"
	campaigngrpc "github.com/evcrm/evcrm/services/campaign/internal/ports/grpc"
	"github.com/evcrm/evcrm/services/campaign/internal/service"
)

// harness runs the campaign service (all its workers) on an embedded JetStream behind the
// platform's gRPC stack. Shared by the campaign, segment and rule tests.
type harness struct {
	nats   *testkit.NATS
	nc     *nats.Conn
	svc    *service.Service
	client campaignv1.CampaignServiceClient
	stop   func()
}

// harnessOptions tune start; the zero value runs without a leads service.
type harnessOptions struct {
	// LeadsAddr is the leads service's address (see startLeadsProcess).
	LeadsAddr string
	DataDir   string
}

// start builds the service on n (a fresh testkit.StartNATS when nil) and serves it.
func start(t testing.TB, n *testkit.NATS, o harnessOptions) *harness {
	t.Helper()
	if n == nil {
		n = testkit.StartNATS(t)
	}
	nc := n.Connect(t)
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, nc, service.Options{DataDir: o.DataDir, LeadsAddr: o.LeadsAddr,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for _, w := range svc.Workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = w.Run(ctx)
		}()
	}
	g := testkit.StartGRPC(t, func(s *grpcserver.Server) { campaigngrpc.Register(s, svc.App) })
	var once sync.Once
	h := &harness{nats: n, nc: nc, svc: svc, client: campaignv1.NewCampaignServiceClient(g.Conn)}
	h.stop = func() {
		once.Do(func() {
			g.Stop()
			cancel()
			wg.Wait()
			require.NoError(t, svc.Close())
		})
	}
	t.Cleanup(h.stop)
	return h
}

var (
	as         = testkit.As
	violations = testkit.Violations
)

// streamMsgs is how many events CRM_CAMPAIGN holds.
func (h *harness) streamMsgs(t testing.TB) uint64 {
	t.Helper()
	js, err := jetstream.New(h.nc)
	require.NoError(t, err)
	s, err := js.Stream(context.Background(), "CRM_CAMPAIGN")
	require.NoError(t, err)
	info, err := s.Info(context.Background())
	require.NoError(t, err)
	return info.State.Msgs
}

// after is the read option that sees the write r.
func after(r *commonv1.WriteResult) *commonv1.ReadOptions {
	return &commonv1.ReadOptions{MinSequence: r.GetSequence()}
}

// createCampaign creates a campaign in tenant acme and activates it when active is set.
func (h *harness) createCampaign(t testing.TB, name string, active bool) *campaignv1.Campaign {
	t.Helper()
	ctx := as(t, "acme", "marketer-1")
	res, err := h.client.CreateCampaign(ctx, &campaignv1.CreateCampaignRequest{Campaign: &campaignv1.Campaign{
		Name: name, Channel: campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_EMAIL,
		Budget: &commonv1.Money{CurrencyCode: "EUR", Units: 1000}}})
	require.NoError(t, err)
	c := res.GetCampaign()
	if active {
		r, err := h.client.ChangeCampaignStatus(ctx, &campaignv1.ChangeCampaignStatusRequest{CampaignId: c.GetId(),
			Status: campaignv1.CampaignStatus_CAMPAIGN_STATUS_ACTIVE})
		require.NoError(t, err)
		c = r.GetCampaign()
	}
	return c
}
