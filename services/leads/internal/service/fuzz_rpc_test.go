package service_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
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
	var methods []protoreflect.MethodDescriptor
	for _, sd := range []protoreflect.ServiceDescriptor{
		leadsv1.File_crm_leads_v1_leads_service_proto.Services().ByName("LeadsService"),
		leadsv1.File_crm_leads_v1_accounts_service_proto.Services().ByName("AccountsService"),
		leadsv1.File_crm_leads_v1_contacts_service_proto.Services().ByName("ContactsService"),
		leadsv1.File_crm_leads_v1_activities_service_proto.Services().ByName("ActivitiesService"),
		leadsv1.File_crm_leads_v1_transfer_service_proto.Services().ByName("DataTransferService"),
	} {
		methods = append(methods, serviceMethods(sd)...)
	}
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
	byName := map[protoreflect.FullName]int{}
	for i, md := range methods {
		byName[md.Input().FullName()] = i
		f.Add(uint8(i), []byte{}) // every method with an empty request
	}
	for _, m := range seeds {
		i, ok := byName[m.ProtoReflect().Descriptor().FullName()]
		if !ok {
			f.Fatalf("no method takes a %s", m.ProtoReflect().Descriptor().FullName())
		}
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
	}

	h := start(f, testkit.StartNATS(f), f.TempDir())
	g := testkit.StartGRPC(f, func(s *grpcserver.Server) { leadsgrpc.Register(s, h.svc.App) })
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		md := methods[int(which)%len(methods)]
		fuzzRPC(t, g.Conn, md, data, testkit.As(t, "fuzz", "fuzzer"))
	})
}

// serviceMethods lists sd's methods in declaration order.
func serviceMethods(sd protoreflect.ServiceDescriptor) []protoreflect.MethodDescriptor {
	out := make([]protoreflect.MethodDescriptor, sd.Methods().Len())
	for i := range out {
		out[i] = sd.Methods().Get(i)
	}
	return out
}

// fuzzRPC decodes data as md's request, drops its read options and calls md on conn (a stream
// method with the one request as its only message), then checks the answer's status.
func fuzzRPC(t *testing.T, conn *grpc.ClientConn, md protoreflect.MethodDescriptor, data []byte, ctx context.Context) {
	t.Helper()
	in, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
	if err != nil {
		t.Fatal(err)
	}
	out, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		t.Fatal(err)
	}
	req := in.New().Interface()
	if proto.Unmarshal(data, req) != nil {
		return // gRPC refuses it before any handler runs
	}
	if fd := req.ProtoReflect().Descriptor().Fields().ByName("read"); fd != nil {
		req.ProtoReflect().Clear(fd)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	full := "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
	resp := out.New().Interface()
	if !md.IsStreamingClient() && !md.IsStreamingServer() {
		err = conn.Invoke(ctx, full, req, resp)
	} else {
		err = callStream(ctx, conn, md, full, req, resp)
	}
	requireClientStatus(t, md, err)
}

func callStream(ctx context.Context, conn *grpc.ClientConn, md protoreflect.MethodDescriptor, full string, req, resp proto.Message) error {
	s, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: md.IsStreamingServer(), ClientStreams: md.IsStreamingClient()}, full)
	if err != nil {
		return err
	}
	if err := s.SendMsg(req); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if err := s.CloseSend(); err != nil {
		return err
	}
	for {
		if err := s.RecvMsg(resp); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// requireClientStatus is the property of every answer: success or a client error, never a
// server fault; InvalidArgument with the fields to fix.
func requireClientStatus(t *testing.T, md protoreflect.MethodDescriptor, err error) {
	t.Helper()
	st := status.Convert(err)
	switch st.Code() {
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.DeadlineExceeded:
		t.Fatalf("%s answered %v: %v", md.Name(), st.Code(), st.Message())
	case codes.InvalidArgument:
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
				return
			}
		}
		t.Fatalf("%s answered InvalidArgument without field violations: %v", md.Name(), st.Message())
	}
}
