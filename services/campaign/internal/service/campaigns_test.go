package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/campaign/internal/app"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

const (
	lead    = campaignv1.MemberType_MEMBER_TYPE_LEAD
	contact = campaignv1.MemberType_MEMBER_TYPE_CONTACT
)

func TestCampaignLifecycle(t *testing.T) {
	t.Parallel()
	h := start(t, nil, harnessOptions{})
	ctx := as(t, "acme", "marketer-1")
	c := h.createCampaign(t, "Spring launch", false)
	assert.Equal(t, campaignv1.CampaignStatus_CAMPAIGN_STATUS_PLANNED, c.GetStatus())
	assert.Len(t, c.GetMemberStatuses(), 7, "the default status set")

	move := func(to campaignv1.CampaignStatus) (*campaignv1.ChangeCampaignStatusResponse, error) {
		return h.client.ChangeCampaignStatus(ctx, &campaignv1.ChangeCampaignStatusRequest{CampaignId: c.GetId(), Status: to})
	}
	_, err := move(campaignv1.CampaignStatus_CAMPAIGN_STATUS_COMPLETED)
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	assert.Contains(t, status.Convert(err).Message(), "PLANNED")
	for _, to := range []campaignv1.CampaignStatus{campaignv1.CampaignStatus_CAMPAIGN_STATUS_ACTIVE,
		campaignv1.CampaignStatus_CAMPAIGN_STATUS_PAUSED, campaignv1.CampaignStatus_CAMPAIGN_STATUS_ACTIVE,
		campaignv1.CampaignStatus_CAMPAIGN_STATUS_COMPLETED} {
		res, err := move(to)
		require.NoError(t, err, "to %s", to)
		assert.Equal(t, to, res.GetCampaign().GetStatus())
	}
	_, err = move(campaignv1.CampaignStatus_CAMPAIGN_STATUS_ABORTED)
	require.Equal(t, codes.FailedPrecondition, status.Code(err))
	assert.Contains(t, status.Convert(err).Message(), "COMPLETED")

	// Cost entries add up in the budget's currency.
	cost, err := h.client.RecordCampaignCost(ctx, &campaignv1.RecordCampaignCostRequest{CampaignId: c.GetId(),
		Entry: &campaignv1.CostEntry{Amount: &commonv1.Money{CurrencyCode: "EUR", Units: 120, Nanos: 500_000_000}, Date: "2025-03-02"}})
	require.NoError(t, err)
	cost, err = h.client.RecordCampaignCost(ctx, &campaignv1.RecordCampaignCostRequest{CampaignId: c.GetId(),
		Entry: &campaignv1.CostEntry{Amount: &commonv1.Money{CurrencyCode: "EUR", Units: 9, Nanos: 500_000_000}}})
	require.NoError(t, err)
	assert.Equal(t, int64(130), cost.GetCampaign().GetActualCost().GetUnits())
	assert.Zero(t, cost.GetCampaign().GetActualCost().GetNanos())

	// A program with a child; making the program the child's child would be a cycle.
	child, err := h.client.CreateCampaign(ctx, &campaignv1.CreateCampaignRequest{Campaign: &campaignv1.Campaign{
		Name: "Webinar", Channel: campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_WEBINAR, ParentCampaignId: c.GetId()}})
	require.NoError(t, err)
	_, err = h.client.UpdateCampaign(ctx, &campaignv1.UpdateCampaignRequest{CampaignId: c.GetId(),
		Campaign: &campaignv1.Campaign{ParentCampaignId: child.GetCampaign().GetId()}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"parent_campaign_id"}}})
	assert.True(t, violations(t, err)["campaign.parent_campaign_id"])
	up, err := h.client.UpdateCampaign(ctx, &campaignv1.UpdateCampaignRequest{CampaignId: c.GetId(),
		Campaign: &campaignv1.Campaign{Name: "Spring program"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}}})
	require.NoError(t, err)
	assert.Equal(t, "Spring program", up.GetCampaign().GetName())

	got, err := h.client.GetCampaign(ctx, &campaignv1.GetCampaignRequest{CampaignId: c.GetId(), Read: after(up.GetResult())})
	require.NoError(t, err)
	assert.Equal(t, "Spring program", got.GetCampaign().GetName())
	assert.Equal(t, int64(130), got.GetCampaign().GetActualCost().GetUnits())
	assert.Len(t, got.GetByStatus(), 7)

	list, err := h.client.ListCampaigns(ctx, &campaignv1.ListCampaignsRequest{ParentCampaignId: c.GetId(), Read: after(up.GetResult())})
	require.NoError(t, err)
	require.Len(t, list.GetCampaigns(), 1)
	assert.Equal(t, child.GetCampaign().GetId(), list.GetCampaigns()[0].GetId())
}

func TestBadInputAppendsNothing(t *testing.T) {
	t.Parallel()
	h := start(t, nil, harnessOptions{})
	ctx := as(t, "acme", "marketer-1")
	c := h.createCampaign(t, "c", true)
	_, _, err := h.svc.App.AddMembers(ctx, "acme", c.GetId(), []app.Person{{Type: member.TypeLead, ID: "lead-1", Known: true}}, "manual", app.Write{})
	require.NoError(t, err)
	before := h.streamMsgs(t)

	_, err = h.client.CreateCampaign(ctx, &campaignv1.CreateCampaignRequest{Campaign: &campaignv1.Campaign{
		Name: "x", Channel: campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_EMAIL, StartDate: "2025-05-01", EndDate: "2025-04-01",
		Budget: &commonv1.Money{CurrencyCode: "EUR", Units: -5}}})
	v := violations(t, err)
	assert.True(t, v["campaign.end_date"], "%v", v)
	assert.True(t, v["campaign.budget"], "%v", v)

	_, err = h.client.RecordCampaignCost(ctx, &campaignv1.RecordCampaignCostRequest{CampaignId: c.GetId(),
		Entry: &campaignv1.CostEntry{Amount: &commonv1.Money{CurrencyCode: "EUR", Units: -1}}})
	assert.True(t, violations(t, err)["entry.amount"])

	resp := func(person, st string) *campaignv1.RecordResponseRequest {
		return &campaignv1.RecordResponseRequest{Response: &campaignv1.Response{CampaignId: c.GetId(), MemberType: lead, PersonId: person, Status: st}}
	}
	_, err = h.client.RecordResponse(ctx, resp("lead-1", "attended"))
	assert.True(t, violations(t, err)["response.status"])
	_, err = h.client.RecordResponse(ctx, resp("lead-2", "sent"))
	assert.True(t, violations(t, err)["response.person_id"])
	_, err = h.client.RecordResponse(ctx, &campaignv1.RecordResponseRequest{Response: &campaignv1.Response{CampaignId: "nope", MemberType: lead, PersonId: "lead-1", Status: "sent"}})
	assert.True(t, violations(t, err)["response.campaign_id"], "%v", err)
	_, err = h.client.AddMembers(ctx, &campaignv1.AddMembersRequest{CampaignId: c.GetId(), People: []*campaignv1.MemberRef{{PersonId: "x"}}})
	assert.True(t, violations(t, err)["people[0].type"])

	assert.Equal(t, before, h.streamMsgs(t), "nothing appended")
}

func TestMembershipIsIdempotent(t *testing.T) {
	t.Parallel()
	h := start(t, nil, harnessOptions{})
	ctx := as(t, "acme", "marketer-1")
	c := h.createCampaign(t, "c", true)
	people := []app.Person{{Type: member.TypeLead, ID: "lead-1", Known: true}, {Type: member.TypeContact, ID: "lead-1", Known: true}}
	rs, res, err := h.svc.App.AddMembers(ctx, "acme", c.GetId(), people, "manual", app.Write{})
	require.NoError(t, err)
	require.Len(t, rs, 2)
	assert.Equal(t, app.AddAdded, rs[0].Outcome)
	assert.Equal(t, app.AddAdded, rs[1].Outcome, "a contact with the same id is another person")
	assert.NotZero(t, res.Position.Sequence)
	msgs := h.streamMsgs(t)

	rs, _, err = h.svc.App.AddMembers(ctx, "acme", c.GetId(), people, "manual", app.Write{})
	require.NoError(t, err)
	assert.Equal(t, app.AddAlreadyMember, rs[0].Outcome)
	assert.Equal(t, member.ID(c.GetId(), member.TypeLead, "lead-1"), rs[0].MemberID)
	assert.Equal(t, msgs, h.streamMsgs(t), "adding twice appends nothing")

	// A closed campaign takes no members.
	_, err = h.client.ChangeCampaignStatus(ctx, &campaignv1.ChangeCampaignStatusRequest{CampaignId: c.GetId(), Status: campaignv1.CampaignStatus_CAMPAIGN_STATUS_ABORTED})
	require.NoError(t, err)
	_, _, err = h.svc.App.AddMembers(ctx, "acme", c.GetId(), []app.Person{{Type: member.TypeLead, ID: "lead-9", Known: true}}, "manual", app.Write{})
	assert.Contains(t, err.Error(), "ABORTED")
}

func TestSuppressionAgainstTheLeadsService(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	lp := startLeadsProcess(t, n)
	h := start(t, n, harnessOptions{LeadsAddr: lp.Addr()})
	ctx := as(t, "acme", "marketer-1")
	leads, contacts := lp.leads(t), lp.contacts(t)

	newLead := func(email string, optOut bool) string {
		res, err := leads.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{FirstName: "Ada", LastName: "L", Email: email,
			Company: "Engines", Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM}})
		require.NoError(t, err)
		id := res.GetLead().GetId()
		if optOut {
			_, err := leads.UpdateLead(ctx, &leadsv1.UpdateLeadRequest{LeadId: id, Lead: &leadsv1.Lead{EmailOptOut: true},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"email_opt_out"}}})
			require.NoError(t, err)
		}
		return id
	}
	plain := newLead("ada@example.com", false)
	optedOut := newLead("bob@example.com", true)
	dnc, err := contacts.CreateContact(ctx, &leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{FirstName: "Cy", Email: "cy@example.com", DoNotContact: true}})
	require.NoError(t, err)
	ok, err := contacts.CreateContact(ctx, &leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{FirstName: "Di", Email: "di@example.com"}})
	require.NoError(t, err)

	// Contacts are a read model of their own, which may be behind the leads' one that ask
	// waits for: wait until the leads service reads both contacts, so the first ask sees them.
	for _, id := range []string{dnc.GetContact().GetId(), ok.GetContact().GetId()} {
		require.Eventually(t, func() bool {
			_, err := contacts.GetContact(ctx, &leadsv1.GetContactRequest{ContactId: id})
			return err == nil
		}, 10*time.Second, 50*time.Millisecond)
	}

	c := h.createCampaign(t, "c", true)
	ask := func() []*campaignv1.AddMemberResult {
		// The leads service's reads may lag its writes briefly; retry until it has them.
		var res *campaignv1.AddMembersResponse
		require.Eventually(t, func() bool {
			var err error
			res, err = h.client.AddMembers(ctx, &campaignv1.AddMembersRequest{CampaignId: c.GetId(), People: []*campaignv1.MemberRef{
				{Type: lead, PersonId: plain}, {Type: lead, PersonId: optedOut}, {Type: contact, PersonId: dnc.GetContact().GetId()},
				{Type: contact, PersonId: ok.GetContact().GetId()}, {Type: lead, PersonId: "no-such-lead"}}})
			require.NoError(t, err)
			return res.GetResults()[1].GetOutcome() == campaignv1.AddMemberOutcome_ADD_MEMBER_OUTCOME_SUPPRESSED
		}, 10*time.Second, 50*time.Millisecond)
		return res.GetResults()
	}
	rs := ask()
	outcomes := func(rs []*campaignv1.AddMemberResult) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.GetOutcome().String()+"/"+r.GetReason())
		}
		return out
	}
	assert.Equal(t, []string{"ADD_MEMBER_OUTCOME_ADDED/", "ADD_MEMBER_OUTCOME_SUPPRESSED/email_opt_out",
		"ADD_MEMBER_OUTCOME_SUPPRESSED/do_not_contact", "ADD_MEMBER_OUTCOME_ADDED/", "ADD_MEMBER_OUTCOME_NOT_FOUND/"}, outcomes(rs))
	assert.Equal(t, []string{"ADD_MEMBER_OUTCOME_ALREADY_MEMBER/", "ADD_MEMBER_OUTCOME_SUPPRESSED/email_opt_out",
		"ADD_MEMBER_OUTCOME_SUPPRESSED/do_not_contact", "ADD_MEMBER_OUTCOME_ALREADY_MEMBER/", "ADD_MEMBER_OUTCOME_NOT_FOUND/"}, outcomes(ask()))
}

func TestUnsubscribeIsRespected(t *testing.T) {
	t.Parallel()
	h := start(t, nil, harnessOptions{})
	ctx := as(t, "acme", "marketer-1")
	c := h.createCampaign(t, "c", true)
	_, _, err := h.svc.App.AddMembers(ctx, "acme", c.GetId(), []app.Person{{Type: member.TypeLead, ID: "lead-1", Known: true}}, "manual", app.Write{})
	require.NoError(t, err)
	record := func(st string) (*campaignv1.RecordResponseResponse, error) {
		return h.client.RecordResponse(ctx, &campaignv1.RecordResponseRequest{Response: &campaignv1.Response{CampaignId: c.GetId(),
			MemberType: lead, PersonId: "lead-1", Status: st}})
	}
	_, err = record("sent")
	require.NoError(t, err)
	res, err := record("unsubscribed")
	require.NoError(t, err)
	assert.True(t, res.GetMember().GetUnsubscribed())
	_, err = record("sent")
	require.Equal(t, codes.FailedPrecondition, status.Code(err))
	assert.Contains(t, status.Convert(err).Message(), "member unsubscribed")

	// Everywhere afterwards: another campaign suppresses the person.
	other := h.createCampaign(t, "other", true)
	_, err = h.client.GetCampaign(ctx, &campaignv1.GetCampaignRequest{CampaignId: c.GetId(), Read: after(res.GetResult())})
	require.NoError(t, err)
	rs, _, err := h.svc.App.AddMembers(ctx, "acme", other.GetId(), []app.Person{{Type: member.TypeLead, ID: "lead-1", Known: true}}, "manual", app.Write{})
	require.NoError(t, err)
	assert.Equal(t, app.AddSuppressed, rs[0].Outcome)
	assert.Equal(t, app.ReasonUnsubscribed, rs[0].Reason)
}

// addPeople adds n leads "lead-<i>" to campaign c.
func addPeople(t testing.TB, h *harness, c string, n int) {
	t.Helper()
	ctx := context.Background()
	for start := 0; start < n; start += app.MaxAddMembers {
		var ps []app.Person
		for i := start; i < min(n, start+app.MaxAddMembers); i++ {
			ps = append(ps, app.Person{Type: member.TypeLead, ID: fmt.Sprintf("lead-%d", i), Known: true})
		}
		_, _, err := h.svc.App.AddMembers(ctx, "acme", c, ps, "manual", app.Write{})
		require.NoError(t, err)
	}
}

func sendBatches(t testing.TB, ctx context.Context, h *harness, batches []*campaignv1.RecordResponsesRequest) *campaignv1.RecordResponsesResponse {
	t.Helper()
	st, err := h.client.RecordResponses(ctx)
	require.NoError(t, err)
	for _, b := range batches {
		require.NoError(t, st.Send(b))
	}
	res, err := st.CloseAndRecv()
	require.NoError(t, err)
	return res
}

func TestBulkResponsesUnderRedelivery(t *testing.T) {
	t.Parallel()
	h := start(t, nil, harnessOptions{})
	ctx := as(t, "acme", "marketer-1")
	c := h.createCampaign(t, "c", true)
	addPeople(t, h, c.GetId(), 300)
	batch := func(id string, from, to int, st string) *campaignv1.RecordResponsesRequest {
		b := &campaignv1.RecordResponsesRequest{BatchId: id}
		for i := from; i < to; i++ {
			b.Responses = append(b.Responses, &campaignv1.Response{CampaignId: c.GetId(), MemberType: lead,
				PersonId: fmt.Sprintf("lead-%d", i), Status: st, OccurredAt: timestamppb.Now()})
		}
		return b
	}
	first := batch("b1", 0, 300, "sent")
	first.Responses = append(first.Responses,
		&campaignv1.Response{CampaignId: c.GetId(), MemberType: lead, PersonId: "stranger", Status: "sent"},
		&campaignv1.Response{CampaignId: c.GetId(), MemberType: lead, PersonId: "lead-1", Status: "attended"},
		&campaignv1.Response{CampaignId: c.GetId(), MemberType: 9, PersonId: "lead-1", Status: "sent"})
	second := batch("b2", 0, 100, "opened")
	res := sendBatches(t, ctx, h, []*campaignv1.RecordResponsesRequest{first, second})
	assert.Equal(t, int64(400), res.GetAccepted())
	assert.Equal(t, int64(3), res.GetRejected())
	assert.Zero(t, res.GetDuplicates())
	require.Len(t, res.GetErrors(), 3)
	assert.Equal(t, []string{"response.person_id", "response.status", "response.member_type"},
		[]string{res.GetErrors()[0].GetField(), res.GetErrors()[1].GetField(), res.GetErrors()[2].GetField()})
	assert.Equal(t, int32(300), res.GetErrors()[0].GetIndex())
	msgs := h.streamMsgs(t)

	// The client lost the answer and resends both batches: nothing is recorded twice.
	res = sendBatches(t, ctx, h, []*campaignv1.RecordResponsesRequest{first, second})
	assert.Zero(t, res.GetAccepted())
	assert.Equal(t, int64(400), res.GetDuplicates())
	assert.Equal(t, int64(3), res.GetRejected())
	assert.Equal(t, msgs, h.streamMsgs(t), "no extra events")

	// Even after the cache is gone, the member's log remembers its keys.
	h.stop()
	h2 := start(t, h.nats, harnessOptions{})
	res = sendBatches(t, ctx, h2, []*campaignv1.RecordResponsesRequest{second})
	assert.Equal(t, int64(100), res.GetDuplicates())
	assert.Equal(t, msgs, h2.streamMsgs(t))

	// Counts, members by status, and a person's history.
	got, err := h2.client.GetCampaign(ctx, &campaignv1.GetCampaignRequest{CampaignId: c.GetId(), Read: &commonv1.ReadOptions{MinSequence: msgs}})
	require.NoError(t, err)
	assert.Equal(t, int64(300), got.GetMembers())
	counts := map[string]int64{}
	for _, s := range got.GetByStatus() {
		counts[s.GetStatus()] = s.GetMembers()
	}
	assert.Equal(t, int64(200), counts["sent"])
	assert.Equal(t, int64(100), counts["opened"])
	assert.Zero(t, got.GetResponded())

	page, err := h2.client.ListMembers(ctx, &campaignv1.ListMembersRequest{CampaignId: c.GetId(), Statuses: []string{"opened"}, PageSize: 1000})
	require.NoError(t, err)
	assert.Len(t, page.GetMembers(), 100)

	hist, err := h2.client.GetMemberHistory(ctx, &campaignv1.GetMemberHistoryRequest{Person: &campaignv1.MemberRef{Type: lead, PersonId: "lead-5"}})
	require.NoError(t, err)
	require.Len(t, hist.GetMemberships(), 1)
	var seen []string
	for _, tc := range hist.GetTouches() {
		seen = append(seen, tc.GetStatus())
	}
	assert.Equal(t, []string{"", "sent", "opened"}, seen, "membership first, then responses in order")
}
