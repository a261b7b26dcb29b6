package service_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/testkit"
	leadsgrpc "github.com/evcrm/evcrm/services/leads/internal/ports/grpc"
)

// FuzzLeadsRPCs sends arbitrary wire bytes, as the request of the method the first argument
// selects among every method of the leads service's five gRPC services (leads, accounts,
// contacts, activities, data transfer), to the real service over gRPC (dev auth, tenant fuzz,
// admin): every RPC's whole validation runs, the port's mapping, the application's checks and
// the domain's decision, and what a valid request then reads or writes. Read options are
// dropped, so that a huge min_sequence does not make the read wait for its deadline; a stream
// method gets the one request as its only message. Properties: no panic (the server's recovery
// would answer Internal), never Internal, Unknown or DataLoss, a refusal as InvalidArgument
// names the fields, and each call answers within 10 s.
// `go test -fuzz FuzzLeadsRPCs -parallel 1 ./internal/service` in services/leads explores.
func FuzzLeadsRPCs(f *testing.F) {
	seeds := []proto.Message{
		&leadsv1.CreateLeadRequest{Lead: newLead("ada@example.com")},
		&leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{LastName: "' OR 1=1 --", Email: "x'); DROP TABLE leads; --@example.com",
			Tags: []string{"\x00", strings.Repeat("é", 300)}}},
		&leadsv1.ListLeadsRequest{OwnerIds: []string{"' OR 1=1 --"}, Tag: "%' UNION SELECT 1 --", CampaignId: "\u202e🙂", PageSize: 10},
		&leadsv1.ListLeadsRequest{PageSize: -1, PageToken: "x'; DROP TABLE leads; --", CreatedAfter: &timestamppb.Timestamp{Seconds: 1, Nanos: -5}},
		&leadsv1.SearchLeadsRequest{Query: `lovelace* OR NEAR(a b) "`, PageSize: 5},
		&leadsv1.SearchLeadsRequest{Query: strings.Repeat("x'", 2000), PageToken: "\x00"},
		&leadsv1.CreateAccountRequest{Account: &leadsv1.Account{Name: "Initech", Domain: "HTTP://Initech.DE/"}},
		&leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{FirstName: "Bob", LastName: "Ross", Email: "bob@example.com"}},
		&leadsv1.LogActivityRequest{Activity: &leadsv1.Activity{Kind: leadsv1.ActivityKind_ACTIVITY_KIND_CALL, Subject: "Intro",
			Records: []*leadsv1.RecordRef{{Type: leadsv1.RecordType_RECORD_TYPE_LEAD, Id: "01a00000-0000-7000-8000-00000000dead"}}}},
		&leadsv1.UpsertTerritoryRequest{Territory: &leadsv1.Territory{Id: "dach", Name: "DACH", Priority: 1, Countries: []string{"DE", "AT", "CH"},
			AssignmentMode: leadsv1.AssignmentMode_ASSIGNMENT_MODE_FIXED_OWNER, OwnerId: "rep-a"}},
	}
	fz := testkit.NewRPCFuzz(f, []protoreflect.ServiceDescriptor{
		leadsv1.File_crm_leads_v1_leads_service_proto.Services().ByName("LeadsService"),
		leadsv1.File_crm_leads_v1_accounts_service_proto.Services().ByName("AccountsService"),
		leadsv1.File_crm_leads_v1_contacts_service_proto.Services().ByName("ContactsService"),
		leadsv1.File_crm_leads_v1_activities_service_proto.Services().ByName("ActivitiesService"),
		leadsv1.File_crm_leads_v1_transfer_service_proto.Services().ByName("DataTransferService"),
	}, seeds...)

	h := start(f, testkit.StartNATS(f), f.TempDir())
	g := testkit.StartGRPC(f, func(s *grpcserver.Server) { leadsgrpc.Register(s, h.svc.App) })
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		fz.Call(t, g.Conn, which, data, testkit.As(t, "fuzz", "fuzzer"))
	})
}
