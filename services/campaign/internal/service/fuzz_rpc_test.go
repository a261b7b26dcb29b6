package service_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/testkit"
	campaigngrpc "github.com/evcrm/evcrm/services/campaign/internal/ports/grpc"
)

// FuzzCampaignRPCs sends arbitrary wire bytes, as the request of the CampaignService method the
// first argument selects, to the real service over gRPC (dev auth, tenant fuzz, admin): every
// RPC's whole validation runs, the port's mapping, the application's checks and the domain's
// decision, and what a valid request then reads or writes. Read options are dropped, so that a
// huge min_sequence does not make the read wait for its deadline. Properties: no panic (the
// server's recovery would answer Internal), never Internal, Unknown or DataLoss, a refusal as
// InvalidArgument names the fields, and each call answers within 10 s.
// `go test -fuzz FuzzCampaignRPCs -parallel 1 ./internal/service` in services/campaign explores.
func FuzzCampaignRPCs(f *testing.F) {
	methods := serviceMethods(campaignv1.File_crm_campaign_v1_campaign_service_proto.Services().ByName("CampaignService"))
	lead := campaignv1.MemberType_MEMBER_TYPE_LEAD
	seeds := []proto.Message{
		&campaignv1.CreateCampaignRequest{Campaign: &campaignv1.Campaign{Name: "Spring", Channel: campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_EMAIL,
			Budget: &commonv1.Money{CurrencyCode: "EUR", Units: 1000}, StartDate: "2026-03-01", EndDate: "2026-03-31"}},
		&campaignv1.CreateCampaignRequest{Campaign: &campaignv1.Campaign{Name: "' OR 1=1 --", StartDate: "2026-02-30",
			Budget: &commonv1.Money{CurrencyCode: "EURO", Nanos: -1}}},
		&campaignv1.UpdateCampaignRequest{CampaignId: "c1", Campaign: &campaignv1.Campaign{Name: "n"}},
		&campaignv1.ChangeCampaignStatusRequest{CampaignId: "c1", Status: campaignv1.CampaignStatus_CAMPAIGN_STATUS_ACTIVE},
		&campaignv1.RecordCampaignCostRequest{CampaignId: "c1", Entry: &campaignv1.CostEntry{Amount: &commonv1.Money{CurrencyCode: "EUR", Units: 5}}},
		&campaignv1.ListCampaignsRequest{Statuses: []campaignv1.CampaignStatus{1}, OwnerIds: []string{"' OR 1=1 --"},
			ActiveFrom: "2026-01-01", ActiveTo: "2026-12-31", PageSize: 10},
		&campaignv1.ListCampaignsRequest{ActiveFrom: "2026-13-01", PageSize: -1, PageToken: "x'; DROP TABLE campaigns; --", Channels: []campaignv1.CampaignChannel{99}},
		&campaignv1.AddMembersRequest{CampaignId: "c1", People: []*campaignv1.MemberRef{{Type: lead, PersonId: "lead-1"}, {PersonId: "\x00"}}},
		&campaignv1.ListMembersRequest{CampaignId: "c1", Statuses: []string{"Sent", "' OR 1=1 --"}, RespondedOnly: true, PageSize: 5},
		&campaignv1.GetMemberHistoryRequest{Person: &campaignv1.MemberRef{Type: lead, PersonId: "lead-1"}},
		&campaignv1.RecordResponseRequest{Response: &campaignv1.Response{CampaignId: "c1", MemberType: lead, PersonId: "lead-1", Status: "sent"}},
		&campaignv1.RecordResponsesRequest{BatchId: "b1", Responses: []*campaignv1.Response{{CampaignId: "c1", MemberType: lead, PersonId: "l", Status: "sent"}, {}}},
		&campaignv1.CreateRuleRequest{Rule: tagRule("r", "LeadCreated", `record.country == "US"`, addTag("x"))},
		&campaignv1.CreateRuleRequest{Rule: tagRule("", "Nope", `record.contry ==`, addTag(""))},
		&campaignv1.DryRunRuleRequest{Rule: tagRule("r", "LeadCreated", "", addTag("x")), MaxEvents: 5},
		&campaignv1.ListRuleRunsRequest{RuleId: "' OR 1=1 --", Outcomes: []campaignv1.RuleRunOutcome{1, 77}, PageSize: 3},
		&campaignv1.CreateSegmentRequest{Segment: &campaignv1.Segment{Name: "Hot", Object: lead,
			Criteria: `status in (MARKETING_QUALIFIED) and tag has "enterprise" and score >= 60`}},
		&campaignv1.PreviewSegmentRequest{},
		&campaignv1.ListSegmentsRequest{PageSize: 2, PageToken: "%' UNION SELECT 1 --"},
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

	h := start(f, nil, harnessOptions{})
	g := testkit.StartGRPC(f, func(s *grpcserver.Server) { campaigngrpc.Register(s, h.svc.App) })
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
