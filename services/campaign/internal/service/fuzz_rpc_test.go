package service_test

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

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
	fz := testkit.NewRPCFuzz(f, []protoreflect.ServiceDescriptor{
		campaignv1.File_crm_campaign_v1_campaign_service_proto.Services().ByName("CampaignService")}, seeds...)

	h := start(f, nil, harnessOptions{})
	g := testkit.StartGRPC(f, func(s *grpcserver.Server) { campaigngrpc.Register(s, h.svc.App) })
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		fz.Call(t, g.Conn, which, data, testkit.As(t, "fuzz", "fuzzer"))
	})
}
