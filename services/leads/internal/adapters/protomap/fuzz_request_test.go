package protomap_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcerr"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

// FuzzCreateLead feeds arbitrary CreateLeadRequest wire bytes through what the leads service does
// with them before anything is stored: the request mapping (NewLeadFromProto) and the domain's
// validation and decision (lead.Create with the default scoring model). Property: no panic, and a
// rejection is InvalidArgument with field violations. Seeds run as a normal test;
// `go test -fuzz FuzzCreateLead ./internal/adapters/protomap` in services/leads explores.
func FuzzCreateLead(f *testing.F) {
	seeds := []*leadsv1.Lead{
		{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", Company: "Analytical", Source: leadsv1.LeadSource_LEAD_SOURCE_EVENT},
		{LastName: "X", Company: "Y", Website: "https://example.com", Phone: "+1 555 0100", EmployeeCount: 50,
			AnnualRevenue: &commonv1.Money{CurrencyCode: "EUR", Units: 1_000_000}, Tags: []string{"vip", " VIP "},
			Utm: &leadsv1.Utm{}, CustomFields: map[string]*leadsv1.CustomValue{"plan": {}}},
		{LastName: "' OR 1=1 --", Email: "x'); DROP TABLE leads; --@example.com", Company: "\x00\\"},
		{Email: "not an email", EmployeeCount: -1, AnnualRevenue: &commonv1.Money{CurrencyCode: "eur", Units: -1, Nanos: 2e9}},
		{LastName: string(make([]byte, 300)), Source: 999, OwnerId: "bad owner id with spaces"},
		nil,
	}
	for _, l := range seeds {
		b, err := proto.Marshal(&leadsv1.CreateLeadRequest{Lead: l})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	policy := lead.Policy{Model: scoring.DefaultModel()}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req leadsv1.CreateLeadRequest
		if proto.Unmarshal(data, &req) != nil {
			return // gRPC refuses it before any handler runs
		}
		cmd, err := protomap.NewLeadFromProto("01900000-0000-7000-8000-000000000001", req.GetLead())
		if err != nil {
			requireFieldViolations(t, err)
			return
		}
		// No territories in the policy: the assigner is never asked.
		if _, err := lead.Create(lead.Lead{}, cmd, policy, nil, now); err != nil {
			requireFieldViolations(t, err)
		}
	})
}

// requireFieldViolations is the property of a rejected request: InvalidArgument on the wire with
// at least one field violation, so the client learns which field to fix.
func requireFieldViolations(t *testing.T, err error) {
	t.Helper()
	st := grpcerr.ToStatus(context.Background(), err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("rejected with %v (%v), want InvalidArgument", st.Code(), err)
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			return
		}
	}
	t.Fatalf("InvalidArgument without field violations: %v", err)
}
