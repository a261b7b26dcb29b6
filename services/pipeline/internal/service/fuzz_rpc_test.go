package service_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/testkit"
	pipelinegrpc "github.com/evcrm/evcrm/services/pipeline/internal/ports/grpc"
	"github.com/evcrm/evcrm/services/pipeline/internal/service"
)

// FuzzPipelineRPCs sends arbitrary wire bytes, as the request of the PipelineService method the
// first argument selects, to the real service over gRPC (dev auth, tenant fuzz, admin): every
// RPC's whole validation runs, the port's mapping, the application's checks and the domain's
// decision, and what a valid request then reads or writes. Read options are dropped, so that a
// huge min_sequence does not make the read wait for its deadline. Properties: no panic (the
// server's recovery would answer Internal), never Internal, Unknown or DataLoss, a refusal as
// InvalidArgument names the fields, and each call answers within 10 s.
// (FuzzPipelineRequests in internal/adapters/protomap fuzzes the mappers and decisions alone,
// much faster.) `go test -fuzz FuzzPipelineRPCs -parallel 1 ./internal/service` in
// services/pipeline explores.
func FuzzPipelineRPCs(f *testing.F) {
	eur := func(u int64) *commonv1.Money { return &commonv1.Money{CurrencyCode: "EUR", Units: u} }
	seeds := []proto.Message{
		&pipelinev1.CreateOpportunityRequest{Opportunity: &pipelinev1.Opportunity{Name: "Acme", OwnerId: "olga", AccountId: "acc-1",
			Amount: eur(10000), ExpectedCloseDate: "2030-06-30"}},
		&pipelinev1.CreateOpportunityRequest{Opportunity: &pipelinev1.Opportunity{Name: "' OR 1=1 --", ExpectedCloseDate: "2025-02-30",
			Amount: &commonv1.Money{CurrencyCode: "EURO", Nanos: -1}, Tags: []string{"x'); DROP TABLE opportunities; --"}}},
		&pipelinev1.ListOpportunitiesRequest{OwnerIds: []string{"' OR 1=1 --"}, Tag: "%' UNION SELECT doc FROM opportunities --",
			CloseDateFrom: "2026-01-01", MinAmount: eur(1), PageSize: 10},
		&pipelinev1.ListOpportunitiesRequest{PageSize: -1, PageToken: "x'; DROP TABLE opportunities; --", CloseDateTo: "2026-13-01"},
		&pipelinev1.GetForecastRequest{OwnerIds: []string{"olga", "' OR 1=1 --"}, AsOf: timestamppb.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
			GroupByOwner: true},
		&pipelinev1.ListContractsRequest{AccountIds: []string{"\x00"}, RenewalDateTo: "2030-12-31", PageToken: "%"},
		&pipelinev1.ListPipelinesRequest{IncludeArchived: true, PageToken: "' OR 1=1 --"},
		&pipelinev1.CreatePipelineRequest{Pipeline: &pipelinev1.Pipeline{Id: "renewals", Name: "Renewals"}},
		&pipelinev1.CreateContractRequest{Contract: &pipelinev1.Contract{OpportunityId: "o1", StartDate: "2030-01-01", EndDate: "2030-12-31", Value: eur(5)}},
		&pipelinev1.GetOpportunityRequest{OpportunityId: "' OR 1=1 --"},
		&pipelinev1.ListQuotesRequest{OpportunityId: "%' UNION SELECT 1 --"},
	}
	fz := testkit.NewRPCFuzz(f, []protoreflect.ServiceDescriptor{
		pipelinev1.File_crm_pipeline_v1_pipeline_service_proto.Services().ByName("PipelineService")}, seeds...)

	conn := startForFuzz(f)
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		fz.Call(t, conn, which, data, testkit.As(t, "fuzz", "fuzzer"))
	})
}

// startForFuzz runs the service as start does and returns the connection to it (the harness
// keeps only a typed client).
func startForFuzz(tb testing.TB) *grpc.ClientConn {
	nc := testkit.StartNATS(tb).Connect(tb)
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, nc, service.Options{DataDir: tb.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	require.NoError(tb, err)
	done := make(chan error, 1)
	go func() { done <- svc.Projector.Run(ctx) }()
	g := testkit.StartGRPC(tb, func(s *grpcserver.Server) {
		pipelinev1.RegisterPipelineServiceServer(s, pipelinegrpc.NewServer(svc.App))
	})
	tb.Cleanup(func() {
		g.Stop()
		cancel()
		<-done
		require.NoError(tb, svc.Close())
	})
	return g.Conn
}
