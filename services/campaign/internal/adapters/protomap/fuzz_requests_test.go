package protomap_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/evcrm/evcrm/libs/apperr"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcerr"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/segment"
)

// campaignCase is one command RPC's validation: its request message, and the mapping plus the
// domain decision the server runs on it, on a fixed active campaign, member, rule or segment.
type campaignCase struct {
	name string
	msg  func() proto.Message
	// check returns what was decided (compared across two runs) or the client's error.
	check func(proto.Message) (any, error)
}

func campaignCmd[R proto.Message](name string, newMsg func() R, check func(R) (any, error)) campaignCase {
	return campaignCase{name: name, msg: func() proto.Message { return newMsg() },
		check: func(m proto.Message) (any, error) { return check(m.(R)) }}
}

func campaignCases(tb testing.TB) []campaignCase {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	d, err := protomap.DetailsFromProto(validCampaign(), "campaign")
	must(err)
	evs, err := campaign.Create(campaign.Campaign{}, "c1", d, now)
	must(err)
	active := fold(campaign.Apply, campaign.Campaign{}, evs)
	evs, err = campaign.ChangeStatus(active, campaign.StatusActive, "", now)
	must(err)
	active = fold(campaign.Apply, active, evs)
	mevs, err := member.Add(member.Member{}, active, member.TypeLead, "lead-1", "manual", now)
	must(err)
	mem := fold(member.Apply, member.Member{}, mevs)
	cat := protomap.RuleCatalog()
	revs, err := rule.Create(rule.Rule{}, "r1", protomap.DefinitionFromProto(validRule()), cat, now)
	must(err)
	existingRule := fold(rule.Apply, rule.Rule{}, revs)
	g := protomap.SegmentFromProto(&campaignv1.Segment{Name: "Hot", Object: campaignv1.MemberType_MEMBER_TYPE_LEAD, Criteria: `score >= 60`})
	g.ID = "s1"
	sevs, err := segment.Create(segment.State{}, g, now)
	must(err)
	seg := fold(segment.Apply, segment.State{}, sevs)

	return []campaignCase{
		campaignCmd("CreateCampaign", func() *campaignv1.CreateCampaignRequest { return &campaignv1.CreateCampaignRequest{} },
			func(r *campaignv1.CreateCampaignRequest) (any, error) {
				if r.GetCampaign() == nil {
					return nil, nil // refused by the port as "campaign: required"
				}
				d, err := protomap.DetailsFromProto(r.GetCampaign(), "campaign")
				if err != nil {
					return nil, mapperErr(err)
				}
				return decided(campaign.Create(campaign.Campaign{}, "c2", d, now))
			}),
		campaignCmd("UpdateCampaign", func() *campaignv1.UpdateCampaignRequest { return &campaignv1.UpdateCampaignRequest{} },
			func(r *campaignv1.UpdateCampaignRequest) (any, error) {
				d, err := protomap.DetailsFromProto(r.GetCampaign(), "campaign")
				if err != nil {
					return nil, mapperErr(err)
				}
				return decided(campaign.UpdateDetails(active, campaign.Update{Paths: r.GetUpdateMask().GetPaths(), Details: d}, now))
			}),
		campaignCmd("ChangeCampaignStatus", func() *campaignv1.ChangeCampaignStatusRequest { return &campaignv1.ChangeCampaignStatusRequest{} },
			func(r *campaignv1.ChangeCampaignStatusRequest) (any, error) {
				to, err := protomap.StatusFromProto(r.GetStatus(), "status")
				if err != nil {
					return nil, mapperErr(err)
				}
				return decided(campaign.ChangeStatus(active, to, r.GetNote(), now))
			}),
		campaignCmd("RecordCampaignCost", func() *campaignv1.RecordCampaignCostRequest { return &campaignv1.RecordCampaignCostRequest{} },
			func(r *campaignv1.RecordCampaignCostRequest) (any, error) {
				e, err := protomap.CostEntryFromProto(r.GetEntry())
				if err != nil {
					return nil, mapperErr(err)
				}
				return decided(campaign.RecordCost(active, e, now))
			}),
		campaignCmd("AddMembers", func() *campaignv1.AddMembersRequest { return &campaignv1.AddMembersRequest{} },
			func(r *campaignv1.AddMembersRequest) (any, error) {
				var v apperr.Violations
				var out []any
				for i, p := range r.GetPeople() {
					typ, id := protomap.MemberRefFromProto(p, fmt.Sprintf("people[%d]", i), &v)
					if len(v) == 0 && i < 50 {
						evs, err := member.Add(member.Member{}, active, typ, id, "manual", now)
						if err != nil {
							requireClientError(err, false)
						}
						out = append(out, evs, fmt.Sprint(err))
					}
				}
				if err := v.Err("invalid members"); err != nil {
					return nil, mapperErr(err)
				}
				return out, nil
			}),
		campaignCmd("RecordResponse", func() *campaignv1.RecordResponseRequest { return &campaignv1.RecordResponseRequest{} },
			func(r *campaignv1.RecordResponseRequest) (any, error) {
				in, err := protomap.ResponseFromProto(r.GetResponse())
				if err != nil {
					return nil, mapperErr(err)
				}
				return decided(member.Respond(mem, active, member.Response{Status: in.Status, OccurredAt: in.OccurredAt,
					Metadata: in.Metadata, Key: "k"}, now))
			}),
		campaignCmd("CreateRule", func() *campaignv1.CreateRuleRequest { return &campaignv1.CreateRuleRequest{} },
			func(r *campaignv1.CreateRuleRequest) (any, error) {
				return decided(rule.Create(rule.Rule{}, "r2", protomap.DefinitionFromProto(r.GetRule()), cat, now))
			}),
		campaignCmd("UpdateRule", func() *campaignv1.UpdateRuleRequest { return &campaignv1.UpdateRuleRequest{} },
			func(r *campaignv1.UpdateRuleRequest) (any, error) {
				return decided(rule.Update(existingRule, protomap.DefinitionFromProto(r.GetRule()), cat, now))
			}),
		campaignCmd("UpdateSegment", func() *campaignv1.UpdateSegmentRequest { return &campaignv1.UpdateSegmentRequest{} },
			func(r *campaignv1.UpdateSegmentRequest) (any, error) {
				g := protomap.SegmentFromProto(r.GetSegment())
				g.ID = "s1"
				return decided(segment.Update(seg, g, r.GetUpdateMask().GetPaths(), now))
			}),
	}
}

func fold[S, E any](apply func(S, E) S, s S, evs []E) S {
	for _, e := range evs {
		s = apply(s, e)
	}
	return s
}

// decided checks a domain decision's refusal and returns what it decided.
func decided[E any](evs []E, err error) (any, error) {
	if err != nil {
		requireClientError(err, false)
		return nil, err
	}
	return evs, nil
}

// mapperErr checks a mapper's refusal: InvalidArgument with field violations.
func mapperErr(err error) error {
	requireClientError(err, true)
	return err
}

// requireClientError panics (the fuzzer keeps the input) unless err is InvalidArgument with
// field violations, or, from a domain decision, another client error (FailedPrecondition,
// NotFound, …), never Internal or Unknown.
func requireClientError(err error, mapper bool) {
	st := grpcerr.ToStatus(context.Background(), err)
	switch {
	case st.Code() == codes.InvalidArgument:
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
				return
			}
		}
		panic(fmt.Sprintf("InvalidArgument without field violations: %v", err))
	case mapper:
		panic(fmt.Sprintf("mapper refused with %v (%v), want InvalidArgument", st.Code(), err))
	case st.Code() == codes.Internal || st.Code() == codes.Unknown:
		panic(fmt.Sprintf("decision refused with %v: %v", st.Code(), err))
	}
}

func validCampaign() *campaignv1.Campaign {
	return &campaignv1.Campaign{Name: "Spring", Channel: campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_EMAIL,
		Budget: &commonv1.Money{CurrencyCode: "EUR", Units: 1000}, StartDate: "2026-03-01", EndDate: "2026-03-31"}
}

func validRule() *campaignv1.Rule {
	return &campaignv1.Rule{Name: "tag US leads", Enabled: true, Trigger: &campaignv1.Trigger{EventType: "LeadCreated"},
		Condition: `record.country == "US"`,
		Actions:   []*campaignv1.Action{{Action: &campaignv1.Action_AddTag{AddTag: &campaignv1.AddTag{Tag: "us"}}}}}
}

// FuzzCampaignRequests feeds arbitrary wire bytes, as the request of the command the first
// argument selects (create, update, status, cost of a campaign; add members; record a
// response; create and update a rule; update a segment), through the port's mapping and the
// domain's decision on a fixed active campaign, member, rule and segment: fast, where
// FuzzCampaignRPCs (internal/service) sends every RPC through the running service. The
// queries' checks and CreateSegment (FuzzCreateSegment) are there. Properties: no panic; a
// refusal is InvalidArgument with field violations (a decision may also answer another client
// error, never Internal); the same bytes are decided the same way twice.
// `go test -fuzz FuzzCampaignRequests ./internal/adapters/protomap` in services/campaign
// explores.
func FuzzCampaignRequests(f *testing.F) {
	cases := campaignCases(f)
	lead := campaignv1.MemberType_MEMBER_TYPE_LEAD
	mask := func(p ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: p} }
	hostile := &campaignv1.Campaign{Name: "' OR 1=1 --", StartDate: "2026-02-30", EndDate: "x'); DROP TABLE campaigns; --",
		Budget: &commonv1.Money{CurrencyCode: "EURO", Nanos: -1}, ParentCampaignId: "%' UNION SELECT 1 --"}
	seeds := [][]proto.Message{
		{&campaignv1.CreateCampaignRequest{Campaign: validCampaign()}, &campaignv1.CreateCampaignRequest{Campaign: hostile}},
		{&campaignv1.UpdateCampaignRequest{CampaignId: "c1", Campaign: &campaignv1.Campaign{Name: "Summer"}, UpdateMask: mask("name")},
			&campaignv1.UpdateCampaignRequest{Campaign: hostile, UpdateMask: mask("start_date", "budget", "status", "")}},
		{&campaignv1.ChangeCampaignStatusRequest{Status: campaignv1.CampaignStatus_CAMPAIGN_STATUS_COMPLETED, Note: "done"},
			&campaignv1.ChangeCampaignStatusRequest{Status: 77}},
		{&campaignv1.RecordCampaignCostRequest{Entry: &campaignv1.CostEntry{Amount: &commonv1.Money{CurrencyCode: "EUR", Units: 5}, Date: "2026-03-02"}},
			&campaignv1.RecordCampaignCostRequest{Entry: &campaignv1.CostEntry{Amount: &commonv1.Money{CurrencyCode: "USD", Units: 1 << 62}, Date: "2026-13-01"}}},
		{&campaignv1.AddMembersRequest{People: []*campaignv1.MemberRef{{Type: lead, PersonId: "lead-2"}}},
			&campaignv1.AddMembersRequest{People: []*campaignv1.MemberRef{{PersonId: "x"}, nil, {Type: lead, PersonId: "' OR 1=1 --"}}}},
		{&campaignv1.RecordResponseRequest{Response: &campaignv1.Response{CampaignId: "c1", MemberType: lead, PersonId: "lead-1", Status: "sent"}},
			&campaignv1.RecordResponseRequest{Response: &campaignv1.Response{Status: "attended", Metadata: map[string]string{"": "\x00"}}}},
		{&campaignv1.CreateRuleRequest{Rule: validRule()},
			&campaignv1.CreateRuleRequest{Rule: &campaignv1.Rule{Trigger: &campaignv1.Trigger{EventType: "Nope"}, Condition: `record.contry ==`}}},
		{&campaignv1.UpdateRuleRequest{RuleId: "r1", Rule: validRule()}, &campaignv1.UpdateRuleRequest{Rule: &campaignv1.Rule{}}},
		{&campaignv1.UpdateSegmentRequest{Segment: &campaignv1.Segment{Name: "Warm", Criteria: `score >= 40`}, UpdateMask: mask("name", "criteria")},
			&campaignv1.UpdateSegmentRequest{Segment: &campaignv1.Segment{Criteria: `tag has "x" and (`}, UpdateMask: mask("criteria", "object")}},
	}
	if len(seeds) != len(cases) {
		f.Fatalf("%d cases, %d seed lists", len(cases), len(seeds))
	}
	for i, ms := range seeds {
		accepted := false
		for _, m := range ms {
			if got, want := m.ProtoReflect().Descriptor().Name(), cases[i].msg().ProtoReflect().Descriptor().Name(); got != want {
				f.Fatalf("case %s seeded with a %s", cases[i].name, got)
			}
			if v, err := cases[i].check(m); err == nil && v != nil {
				accepted = true
			}
			b, err := proto.Marshal(m)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), b)
		}
		if !accepted {
			f.Errorf("%s: no seed is accepted; the first should be a valid request", cases[i].name)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		c := cases[int(which)%len(cases)]
		msg := c.msg()
		if proto.Unmarshal(data, msg) != nil {
			return // gRPC refuses it before any handler runs
		}
		v1, err1 := c.check(msg)
		v2, err2 := c.check(msg)
		j1, e1 := json.Marshal(v1)
		j2, e2 := json.Marshal(v2)
		if fmt.Sprint(err1) != fmt.Sprint(err2) || string(j1) != string(j2) || fmt.Sprint(e1) != fmt.Sprint(e2) {
			t.Fatalf("%s: decided differently: %s (%v), then %s (%v)", c.name, j1, err1, j2, err2)
		}
	})
}
