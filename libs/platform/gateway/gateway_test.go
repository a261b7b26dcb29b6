package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/openapi"
	"github.com/evcrm/evcrm/libs/platform/gateway"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/libs/testkit"
)

// leads is a small LeadsService behind the real gRPC stack: it keeps leads in memory and
// records who called, so the tests see what the gateway forwarded.
type leads struct {
	leadsv1.UnimplementedLeadsServiceServer
	mu      sync.Mutex
	byID    map[string]*leadsv1.Lead
	callers []string // tenant/user/roles/request id of each call
}

func (s *leads) record(ctx context.Context) {
	tenant, _ := reqctx.Tenant(ctx)
	a := reqctx.ActorFrom(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callers = append(s.callers, tenant+"/"+a.ID+"/"+strings.Join(a.Roles, ",")+"/"+reqctx.RequestID(ctx))
}

func (s *leads) CreateLead(ctx context.Context, req *leadsv1.CreateLeadRequest) (*leadsv1.CreateLeadResponse, error) {
	s.record(ctx)
	var v apperr.Violations
	if !strings.Contains(req.GetLead().GetEmail(), "@") {
		v.Add("lead.email", "must be an email address")
	}
	if req.GetLead().GetLastName() == "" {
		v.Add("lead.last_name", "must not be empty")
	}
	if err := v.Err("invalid lead"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := &leadsv1.Lead{Id: "lead-1", Version: 1, FirstName: req.GetLead().GetFirstName(),
		LastName: req.GetLead().GetLastName(), Email: req.GetLead().GetEmail()}
	s.byID[l.GetId()] = l
	return &leadsv1.CreateLeadResponse{Lead: l}, nil
}

func (s *leads) GetLead(ctx context.Context, req *leadsv1.GetLeadRequest) (*leadsv1.GetLeadResponse, error) {
	s.record(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.byID[req.GetLeadId()]
	if !ok {
		return nil, apperr.NotFoundf("lead", req.GetLeadId())
	}
	return &leadsv1.GetLeadResponse{Lead: l}, nil
}

func startGateway(t *testing.T) (*httptest.Server, *leads) {
	t.Helper()
	svc := &leads{byID: map[string]*leadsv1.Lead{}}
	g := testkit.StartGRPC(t, func(s *grpcserver.Server) { leadsv1.RegisterLeadsServiceServer(s, svc) })
	doc, err := openapi.ForServices("evcrm test API", "crm.leads.v1.LeadsService", "grpc.health.v1.Health")
	require.NoError(t, err)
	h, err := gateway.New(context.Background(), gateway.Options{
		Conn:     g.Conn,
		Services: []gateway.Registrar{leadsv1.RegisterLeadsServiceHandler},
		OpenAPI:  doc,
		Handlers: map[string]http.Handler{"/dashboard/": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "dashboard")
		})},
	})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, svc
}

type call struct {
	method, path, body string
	header             map[string]string
}

var devAuth = map[string]string{"X-Tenant-Id": "acme", "X-User-Id": "demo"}

func do(t *testing.T, srv *httptest.Server, c call) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
	require.NoError(t, err)
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
	}
	return resp, out
}

func TestRESTCallsReachTheGRPCServiceWithTheCallersIdentity(t *testing.T) {
	t.Parallel()
	srv, svc := startGateway(t)

	hdr := map[string]string{"X-Tenant-Id": "acme", "X-User-Id": "demo", "X-Roles": "sales,admin", "X-Request-Id": "req-42"}
	resp, body := do(t, srv, call{"POST", "/v1/leads", `{"lead": {"firstName": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}}`, hdr})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%v", body)
	assert.Equal(t, "req-42", resp.Header.Get("X-Request-Id"), "the request id comes back under its own name")
	lead := body["lead"].(map[string]any)
	assert.Equal(t, "lead-1", lead["id"])
	assert.Equal(t, "Lovelace", lead["lastName"], "lowerCamelCase out, both spellings in")
	assert.Equal(t, "1", lead["version"], "64-bit integers are JSON strings, as protojson writes them")
	assert.Contains(t, lead, "phone", "unset fields are emitted with their zero value")

	resp, body = do(t, srv, call{"GET", "/v1/leads/lead-1", "", devAuth})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%v", body)
	assert.Equal(t, "ada@example.com", body["lead"].(map[string]any)["email"])
	assert.NotEmpty(t, resp.Header.Get("X-Request-Id"), "a request id is assigned when the client sends none")

	svc.mu.Lock()
	defer svc.mu.Unlock()
	require.Len(t, svc.callers, 2)
	assert.Equal(t, "acme/demo/sales,admin/req-42", svc.callers[0])
	// Development auth gives a caller without x-roles every role (grpcauth.DevDefaultRoles).
	assert.True(t, strings.HasPrefix(svc.callers[1], "acme/demo/admin,operator/"), svc.callers[1])
}

func TestRESTErrorsAreStatusJSONWithTheirDetails(t *testing.T) {
	t.Parallel()
	srv, _ := startGateway(t)

	t.Run("field violations", func(t *testing.T) {
		t.Parallel()
		resp, body := do(t, srv, call{"POST", "/v1/leads", `{"lead": {"email": "nope"}}`, devAuth})
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%v", body)
		assert.EqualValues(t, 3, body["code"], "INVALID_ARGUMENT")
		got := map[string]string{}
		for _, d := range body["details"].([]any) {
			d := d.(map[string]any)
			if d["@type"] != "type.googleapis.com/google.rpc.BadRequest" {
				continue
			}
			for _, v := range d["fieldViolations"].([]any) {
				v := v.(map[string]any)
				got[v["field"].(string)] = v["description"].(string)
			}
		}
		assert.Equal(t, map[string]string{"lead.email": "must be an email address", "lead.last_name": "must not be empty"}, got)
	})
	t.Run("not found", func(t *testing.T) {
		t.Parallel()
		resp, body := do(t, srv, call{"GET", "/v1/leads/missing", "", devAuth})
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, "%v", body)
		assert.EqualValues(t, 5, body["code"])
	})
	t.Run("no tenant", func(t *testing.T) {
		t.Parallel()
		resp, body := do(t, srv, call{"GET", "/v1/leads/lead-1", "", map[string]string{"X-User-Id": "demo"}})
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%v", body)
		assert.EqualValues(t, 16, body["code"], "UNAUTHENTICATED")
		assert.Equal(t, gateway.WWWAuthenticate, resp.Header.Get("WWW-Authenticate"))
	})
	t.Run("backfill header reaches the server", func(t *testing.T) {
		t.Parallel()
		h := map[string]string{"X-Tenant-Id": "acme", "X-User-Id": "demo", "X-Evcrm-Backfill-Time": "2026-01-05T09:00:00Z"}
		resp, body := do(t, srv, call{"GET", "/v1/leads/lead-1", "", h})
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%v", body)
		assert.EqualValues(t, 9, body["code"], "FAILED_PRECONDITION: this server runs without -allow-backfill")
	})
	t.Run("unknown JSON field", func(t *testing.T) {
		t.Parallel()
		resp, body := do(t, srv, call{"POST", "/v1/leads", `{"lead": {"emial": "ada@example.com"}}`, devAuth})
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%v", body)
		assert.Contains(t, body["message"], "emial")
	})
	t.Run("no such path", func(t *testing.T) {
		t.Parallel()
		resp, body := do(t, srv, call{"GET", "/v1/nothing", "", devAuth})
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, "%v", body)
	})
	t.Run("RPC without a REST binding", func(t *testing.T) {
		t.Parallel()
		resp, _ := do(t, srv, call{"POST", "/crm.leads.v1.LeadsService/GetLead", "{}", devAuth})
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, "gRPC paths are not served over HTTP/1 JSON")
	})
}

func TestOpenAPIHealthAndMountedHandlers(t *testing.T) {
	t.Parallel()
	srv, _ := startGateway(t)

	resp, doc := do(t, srv, call{"GET", "/openapi.json", "", nil})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "2.0", doc["swagger"])
	assert.Equal(t, "evcrm test API", doc["info"].(map[string]any)["title"])
	paths := doc["paths"].(map[string]any)
	assert.Contains(t, paths, "/v1/leads")
	assert.Contains(t, paths, "/v1/leads/{leadId}:convert")
	assert.NotContains(t, paths, "/v1/accounts", "another service's operations are cut out")
	assert.NotContains(t, paths, "/v1/analytics/funnel")
	defs := slices.Collect(maps.Keys(doc["definitions"].(map[string]any)))
	assert.Contains(t, defs, "Lead")
	assert.Contains(t, defs, "Status", "the error schema (google.rpc.Status) stays")
	assert.NotContains(t, defs, "Campaign", "schemas no kept operation reaches are pruned")

	resp, body := do(t, srv, call{"GET", "/healthz", "", nil})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "SERVING", body["status"])

	req, err := http.Get(srv.URL + "/dashboard/")
	require.NoError(t, err)
	page, _ := io.ReadAll(req.Body)
	req.Body.Close()
	assert.Equal(t, "dashboard", string(page))
}

func TestNewRejectsConflictingHandlers(t *testing.T) {
	t.Parallel()
	g := testkit.StartGRPC(t, func(*grpcserver.Server) {})
	_, err := gateway.New(context.Background(), gateway.Options{Conn: g.Conn,
		Handlers: map[string]http.Handler{"/": http.NotFoundHandler()}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"/"`)
	_, err = gateway.New(context.Background(), gateway.Options{})
	require.Error(t, err)
}
