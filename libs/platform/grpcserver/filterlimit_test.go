package grpcserver_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
)

type unimplementedLeads struct {
	leadsv1.UnimplementedLeadsServiceServer
}
type unimplementedAnalytics struct {
	analyticsv1.UnimplementedAnalyticsServiceServer
}

// A read request with more than MaxFilterValues values in one filter is INVALID_ARGUMENT naming
// the field (nested ones too) before any handler runs; at the limit it reaches the handler;
// writes are not limited by it.
func TestFilterValuesAreBounded(t *testing.T) {
	t.Parallel()
	srv, err := grpcserver.New(grpcserver.Options{Logger: slog.New(slog.DiscardHandler), Registerer: prometheus.NewRegistry(),
		Authenticator: grpcauth.Dev{}})
	require.NoError(t, err)
	leadsv1.RegisterLeadsServiceServer(srv, unimplementedLeads{})
	analyticsv1.RegisterAnalyticsServiceServer(srv, unimplementedAnalytics{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	ctx := asUser(context.Background())
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("u-%d", i)
		}
		return out
	}
	violations := func(err error) []string {
		var out []string
		for _, d := range status.Convert(err).Details() {
			if br, ok := d.(*errdetails.BadRequest); ok {
				for _, v := range br.GetFieldViolations() {
					out = append(out, v.GetField())
				}
			}
		}
		return out
	}
	leads := leadsv1.NewLeadsServiceClient(conn)

	_, err = leads.ListLeads(ctx, &leadsv1.ListLeadsRequest{OwnerIds: ids(grpcserver.MaxFilterValues)})
	assert.Equal(t, codes.Unimplemented, status.Code(err), "at the limit the call reaches the handler: %v", err)
	_, err = leads.ListLeads(ctx, &leadsv1.ListLeadsRequest{OwnerIds: ids(grpcserver.MaxFilterValues + 1), TerritoryIds: ids(40_000)})
	assert.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	assert.ElementsMatch(t, []string{"owner_ids", "territory_ids"}, violations(err))

	_, err = analyticsv1.NewAnalyticsServiceClient(conn).GetFunnel(ctx, &analyticsv1.GetFunnelRequest{
		Filters: &analyticsv1.Filters{Sources: ids(grpcserver.MaxFilterValues + 1)}})
	assert.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	assert.Equal(t, []string{"filters.sources"}, violations(err))

	// A write is not a filter: its own validation bounds it.
	_, err = leads.AddLeadTags(ctx, &leadsv1.AddLeadTagsRequest{LeadId: "l1", Tags: ids(grpcserver.MaxFilterValues + 1)})
	assert.Equal(t, codes.Unimplemented, status.Code(err), "%v", err)
}
