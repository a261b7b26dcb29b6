package authz_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/emptypb"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/platform/authz"
	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
)

// rpc is one method of a generated crm.* service.
type rpc struct {
	name             string
	clientStream, ss bool
}

// crmRPCs lists every RPC of every crm.* service in the generated code, from the protobuf
// registry, so a new service or method is found without editing this test.
func crmRPCs(t *testing.T) []rpc {
	t.Helper()
	// Referenced so the generated packages (and their descriptors) are linked in.
	_ = []any{analyticsv1.AnalyticsService_ServiceDesc, campaignv1.CampaignService_ServiceDesc,
		leadsv1.LeadsService_ServiceDesc, pipelinev1.PipelineService_ServiceDesc}
	var out []rpc
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(fd.Package()), "crm.") {
			return true
		}
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				md := sd.Methods().Get(j)
				out = append(out, rpc{name: "/" + string(sd.FullName()) + "/" + string(md.Name()),
					clientStream: md.IsStreamingClient(), ss: md.IsStreamingServer()})
			}
		}
		return true
	})
	require.NotEmpty(t, out)
	return out
}

// Every RPC has an entry (a new one is closed to everyone but admin until listed, and this test
// says so), and every entry names an RPC that exists.
func TestTableCoversEveryRPC(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range crmRPCs(t) {
		seen[r.name] = true
		_, ok := authz.Table[r.name]
		assert.True(t, ok, "%s has no entry in libs/platform/authz/table.go", r.name)
	}
	for m, roles := range authz.Table {
		assert.True(t, seen[m], "the permission table lists %s, which no service has", m)
		for _, r := range roles {
			assert.Contains(t, authz.Roles, r, "%s names an unknown role", m)
			assert.NotEqual(t, authz.Admin, r, "%s: admin is implicit", m)
		}
	}
	assert.GreaterOrEqual(t, len(seen), 100)
}

// The intent of the roles, checked independently of how the table is written.
func TestRoleIntent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		role, method string
		allowed      bool
	}{
		// Rebuild acts on every tenant: the platform operator's, not a tenant admin's.
		{"admin", "/crm.analytics.v1.AnalyticsService/Rebuild", false},
		{"operator", "/crm.analytics.v1.AnalyticsService/Rebuild", true},
		{"operator", "/crm.analytics.v1.AnalyticsService/GetProjectionStatus", true},
		{"operator", "/crm.leads.v1.LeadsService/GetLead", false},
		{"admin", "/crm.leads.v1.LeadsService/UpdateLeadSettings", true},
		{"analyst", "/crm.analytics.v1.AnalyticsService/GetFunnel", true},
		{"analyst", "/crm.leads.v1.LeadsService/GetLead", false},
		{"analyst", "/crm.pipeline.v1.PipelineService/GetOpportunity", false},
		{"analyst", "/crm.analytics.v1.AnalyticsService/Rebuild", false},
		{"integration", "/crm.leads.v1.LeadsService/ListLeads", true},
		{"integration", "/crm.leads.v1.DataTransferService/ExportRecords", true},
		{"integration", "/crm.leads.v1.LeadsService/CreateLead", false},
		{"integration", "/crm.campaign.v1.CampaignService/RecordResponse", false},
		{"marketing", "/crm.campaign.v1.CampaignService/CreateCampaign", true},
		{"marketing", "/crm.campaign.v1.CampaignService/CreateSegment", true},
		// Marketing reads opportunities for campaign attribution (the pipeline service withholds
		// their amounts) but not quotes, contracts or the pipeline's forecast.
		{"marketing", "/crm.pipeline.v1.PipelineService/GetOpportunity", true},
		{"marketing", "/crm.pipeline.v1.PipelineService/ListOpportunities", true},
		{"marketing", "/crm.pipeline.v1.PipelineService/GetQuote", false},
		{"marketing", "/crm.pipeline.v1.PipelineService/ListContracts", false},
		{"marketing", "/crm.pipeline.v1.PipelineService/GetForecast", false},
		{"marketing", "/crm.pipeline.v1.PipelineService/UpdateOpportunityAmount", false},
		{"sales_rep", "/crm.leads.v1.LeadsService/ConvertLead", true},
		{"sales_rep", "/crm.pipeline.v1.PipelineService/MarkOpportunityWon", true},
		{"sales_rep", "/crm.analytics.v1.AnalyticsService/GetFunnel", false},
		{"sales_rep", "/crm.campaign.v1.CampaignService/CreateCampaign", false},
		{"sales_rep", "/crm.leads.v1.DataTransferService/ExportRecords", false},
		{"sales_manager", "/crm.leads.v1.LeadsService/UpsertTerritory", true},
		{"sales_manager", "/crm.leads.v1.LeadsService/UpdateLeadSettings", false},
		{"service", "/crm.leads.v1.LeadsService/AssignLead", true},
		{"service", "/crm.leads.v1.DataTransferService/ExportRecords", false},
		{"ops", "/crm.leads.v1.LeadsService/GetLead", false},
		{"", "/crm.leads.v1.LeadsService/GetLead", false},
		{"admin", "/crm.leads.v1.LeadsService/NoSuchMethod", false},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.allowed, authz.Allowed(tc.method, []string{tc.role}), "%s → %s", tc.role, tc.method)
	}
}

// docs/security.md shows the table as the code has it. EVCRM_UPDATE_DOCS=1 rewrites the section.
func TestSecurityDocTable(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "..", "docs", "security.md")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	doc := string(b)
	before, rest, ok := strings.Cut(doc, authz.DocBegin)
	require.True(t, ok, "docs/security.md lacks the marker %q", authz.DocBegin)
	_, after, ok := strings.Cut(rest, authz.DocEnd)
	require.True(t, ok, "docs/security.md lacks the marker %q", authz.DocEnd)
	want := before + authz.DocBegin + "\n" + authz.Markdown() + "\n" + authz.DocEnd + after
	if os.Getenv("EVCRM_UPDATE_DOCS") == "1" {
		require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
		return
	}
	assert.Equal(t, want, doc, "docs/security.md's permission table is stale: run EVCRM_UPDATE_DOCS=1 go test ./platform/authz -run TestSecurityDocTable in libs")
}

// server serves every crm.* service (unimplemented handlers) behind the real gRPC stack with JWT
// authentication and the permission table, and returns a connection and the issuer of tokens.
func server(t *testing.T) (*grpc.ClientConn, *grpcauth.DevIssuer) {
	t.Helper()
	dir := t.TempDir()
	iss, err := grpcauth.LoadOrCreateDevIssuer(dir, "https://issuer.test", "evcrm")
	require.NoError(t, err)
	authn, err := grpcauth.NewJWT(context.Background(), grpcauth.JWTConfig{JWKS: filepath.Join(dir, grpcauth.DevJWKSFile),
		Issuer: "https://issuer.test", Audience: "evcrm", ClockSkew: time.Second})
	require.NoError(t, err)
	srv, err := grpcserver.New(grpcserver.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registerer: prometheus.NewRegistry(), Authenticator: authn})
	require.NoError(t, err)
	analyticsv1.RegisterAnalyticsServiceServer(srv, analyticsv1.UnimplementedAnalyticsServiceServer{})
	campaignv1.RegisterCampaignServiceServer(srv, campaignv1.UnimplementedCampaignServiceServer{})
	leadsv1.RegisterLeadsServiceServer(srv, leadsv1.UnimplementedLeadsServiceServer{})
	leadsv1.RegisterAccountsServiceServer(srv, leadsv1.UnimplementedAccountsServiceServer{})
	leadsv1.RegisterContactsServiceServer(srv, leadsv1.UnimplementedContactsServiceServer{})
	leadsv1.RegisterActivitiesServiceServer(srv, leadsv1.UnimplementedActivitiesServiceServer{})
	leadsv1.RegisterDataTransferServiceServer(srv, leadsv1.UnimplementedDataTransferServiceServer{})
	pipelinev1.RegisterPipelineServiceServer(srv, pipelinev1.UnimplementedPipelineServiceServer{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///"+lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn, iss
}

// call invokes r with an empty request and returns the status code the caller sees.
func call(ctx context.Context, conn *grpc.ClientConn, r rpc) codes.Code {
	if !r.clientStream && !r.ss {
		return status.Code(conn.Invoke(ctx, r.name, &emptypb.Empty{}, &emptypb.Empty{}))
	}
	s, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: r.clientStream, ServerStreams: r.ss}, r.name)
	if err != nil {
		return status.Code(err)
	}
	_ = s.SendMsg(&emptypb.Empty{})
	_ = s.CloseSend()
	return status.Code(s.RecvMsg(&emptypb.Empty{}))
}

// The role × RPC matrix over real gRPC, unary and streaming: every role (and a token without
// roles, and no token) against every RPC of every service. Allowed calls reach the handler
// (Unimplemented here, or InvalidArgument from request validation); denied ones stop at
// PermissionDenied, unauthenticated ones at Unauthenticated.
func TestRoleMatrixOverGRPC(t *testing.T) {
	t.Parallel()
	conn, iss := server(t)
	rpcs := crmRPCs(t)
	roles := append(slices.Clone(authz.Roles), "")
	allowedAny := map[string]int{}
	for _, role := range roles {
		claims := grpcauth.TokenClaims{Subject: "u-" + role, Tenant: "acme", TTL: time.Hour}
		if role != "" {
			claims.Roles = []string{role}
		}
		tok, err := iss.Mint(claims)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok,
			"x-tenant-id", "acme"), 30*time.Second)
		for _, r := range rpcs {
			got := call(ctx, conn, r)
			if authz.Allowed(r.name, []string{role}) {
				allowedAny[role]++
				assert.Contains(t, []codes.Code{codes.Unimplemented, codes.InvalidArgument}, got, "%q should reach %s", role, r.name)
			} else {
				assert.Equal(t, codes.PermissionDenied, got, "%q must be denied %s", role, r.name)
			}
		}
		cancel()
	}
	for _, role := range authz.Roles {
		assert.Positive(t, allowedAny[role], "role %s is allowed nothing", role)
	}
	assert.Zero(t, allowedAny[""], "a token without roles must be allowed nothing")
	assert.Equal(t, len(rpcs)-len(authz.PlatformMethods), allowedAny[authz.Admin], "admin may call everything but the platform's methods")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, r := range rpcs {
		assert.Equal(t, codes.Unauthenticated, call(ctx, conn, r), "%s without a token", r.name)
	}
	// Health stays open to load balancers.
	assert.Equal(t, codes.OK, status.Code(conn.Invoke(ctx, "/grpc.health.v1.Health/Check", &emptypb.Empty{}, &emptypb.Empty{})))
}
