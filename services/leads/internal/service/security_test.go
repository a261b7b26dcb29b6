package service_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
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

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/testkit"
	leadsgrpc "github.com/evcrm/evcrm/services/leads/internal/ports/grpc"
	"github.com/evcrm/evcrm/services/leads/internal/service"
)

// The leads service behind JWT authentication (as production runs it): the tenant comes from
// the token only, and a token of tenant B never reads tenant A's lead — not by id (the answer is
// the same NotFound as for an id that never existed), not by listing, searching or exporting,
// and not by naming tenant A in x-tenant-id. Roles are enforced on the real service.
func TestJWTTenantIsolationAndRoles(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, n.Connect(t), service.Options{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	var workers sync.WaitGroup
	for _, w := range svc.Workers() {
		workers.Go(func() { _ = w.Run(ctx) })
	}
	t.Cleanup(func() { cancel(); workers.Wait(); _ = svc.Close() })

	dir := t.TempDir()
	iss, err := grpcauth.LoadOrCreateDevIssuer(dir, "https://idp.test", "evcrm")
	require.NoError(t, err)
	authn, err := grpcauth.NewJWT(ctx, grpcauth.JWTConfig{JWKS: filepath.Join(dir, grpcauth.DevJWKSFile),
		Issuer: "https://idp.test", Audience: "evcrm", ClockSkew: time.Second})
	require.NoError(t, err)
	srv, err := grpcserver.New(grpcserver.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registerer: prometheus.NewRegistry(), Authenticator: authn})
	require.NoError(t, err)
	leadsgrpc.Register(srv, svc.App)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///"+lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	leads := leadsv1.NewLeadsServiceClient(conn)
	transfer := leadsv1.NewDataTransferServiceClient(conn)

	as := func(tenant, user string, roles []string, md ...string) context.Context {
		tok, err := iss.Mint(grpcauth.TokenClaims{Subject: user, Tenant: tenant, Roles: roles, TTL: time.Minute})
		require.NoError(t, err)
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		t.Cleanup(cancel)
		return metadata.AppendToOutgoingContext(c, append([]string{"authorization", "Bearer " + tok}, md...)...)
	}
	repA := as("acme", "rep-a", []string{"sales_rep"})
	repB := as("globex", "rep-b", []string{"sales_rep", "sales_manager"})

	ada := newLead("ada@example.com")
	ada.OwnerId = "rep-a" // a sales rep reads the leads they own (row-level rules)
	created, err := leads.CreateLead(repA, &leadsv1.CreateLeadRequest{Lead: ada})
	require.NoError(t, err)
	id := created.GetLead().GetId()
	read := &commonv1.ReadOptions{MinSequence: created.GetResult().GetSequence()}
	got, err := leads.GetLead(repA, &leadsv1.GetLeadRequest{LeadId: id, Read: read})
	require.NoError(t, err)
	assert.Equal(t, "ada@example.com", got.GetLead().GetEmail())

	// Tenant B: its read models are caught up too (its own lead), so "not found" is not lag.
	own, err := leads.CreateLead(repB, &leadsv1.CreateLeadRequest{Lead: newLead("bob@example.com")})
	require.NoError(t, err)
	readB := &commonv1.ReadOptions{MinSequence: own.GetResult().GetSequence()}
	_, err = leads.GetLead(repB, &leadsv1.GetLeadRequest{LeadId: id, Read: readB})
	assert.Equal(t, codes.NotFound, status.Code(err), "%v", err)
	_, errMissing := leads.GetLead(repB, &leadsv1.GetLeadRequest{LeadId: "01a00000-0000-7000-8000-000000000000", Read: readB})
	assert.Equal(t, status.Code(errMissing), status.Code(err), "another tenant's lead looks exactly like a missing one")
	list, err := leads.ListLeads(repB, &leadsv1.ListLeadsRequest{Read: readB})
	require.NoError(t, err)
	for _, l := range list.GetLeads() {
		assert.NotEqual(t, id, l.GetId())
	}
	// Both leads are named Ada Lovelace (newLead); only B's own comes back.
	found, err := leads.SearchLeads(repB, &leadsv1.SearchLeadsRequest{Query: "lovelace", Read: readB})
	require.NoError(t, err)
	require.Len(t, found.GetLeads(), 1)
	assert.Equal(t, own.GetLead().GetId(), found.GetLeads()[0].GetId())
	stream, err := transfer.ExportRecords(repB, &leadsv1.ExportRecordsRequest{Object: leadsv1.TransferObject_TRANSFER_OBJECT_LEAD, Read: readB})
	require.NoError(t, err)
	var csv strings.Builder
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		csv.Write(chunk.GetChunk())
	}
	assert.Contains(t, csv.String(), "bob@example.com")
	assert.NotContains(t, csv.String(), "ada@example.com")

	// Naming tenant A in metadata does not switch a tenant-B token to it.
	_, err = leads.GetLead(as("globex", "rep-b", []string{"admin"}, "x-tenant-id", "acme"), &leadsv1.GetLeadRequest{LeadId: id})
	assert.Equal(t, codes.PermissionDenied, status.Code(err))

	// Roles on the real service.
	_, err = leads.GetLead(as("acme", "ana", []string{"analyst"}), &leadsv1.GetLeadRequest{LeadId: id})
	assert.Equal(t, codes.PermissionDenied, status.Code(err), "analysts read analytics only")
	_, err = leads.CreateLead(as("acme", "bot", []string{"integration"}), &leadsv1.CreateLeadRequest{Lead: newLead("x@example.com")})
	assert.Equal(t, codes.PermissionDenied, status.Code(err), "integration is read-only")
	integ, err := leads.GetLead(as("acme", "bot", []string{"integration"}), &leadsv1.GetLeadRequest{LeadId: id, Read: read})
	require.NoError(t, err)
	assert.Equal(t, id, integ.GetLead().GetId())
	denied, err := transfer.ExportRecords(repA, &leadsv1.ExportRecordsRequest{Object: leadsv1.TransferObject_TRANSFER_OBJECT_LEAD})
	if err == nil {
		_, err = denied.Recv()
	}
	assert.Equal(t, codes.PermissionDenied, status.Code(err), "sales reps do not export")
	// A denied call on a lead that does not exist is the same denial: nothing is looked up.
	_, err = leads.GetLead(as("acme", "ana", []string{"analyst"}), &leadsv1.GetLeadRequest{LeadId: "01a00000-0000-7000-8000-000000000000"})
	assert.Equal(t, codes.PermissionDenied, status.Code(err))
	_, err = leads.GetLead(context.Background(), &leadsv1.GetLeadRequest{LeadId: id})
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
}
