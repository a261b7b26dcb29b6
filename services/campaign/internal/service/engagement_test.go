package service_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// Responses recorded in the campaign service reach the lead in the leads service over
// JetStream: opens and clicks raise its engagement score by the scoring model's weights, and an
// unsubscribe opts the lead out, so a later campaign suppresses it. Both services run as they
// do in production: campaign in-process, leads as its own process, sharing one NATS.
func TestResponsesReachTheLeadInTheLeadsService(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	lp := startLeadsProcess(t, n)
	h := start(t, n, harnessOptions{LeadsAddr: lp.Addr()})
	ctx := as(t, "acme", "marketer-1")
	leads := lp.leads(t)

	created, err := leads.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{FirstName: "Ada", LastName: "L",
		Email: "ada@engines.example", Company: "Engines", Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM}})
	require.NoError(t, err)
	id := created.GetLead().GetId()
	before := created.GetLead().GetScore().GetEngagement()

	c := h.createCampaign(t, "spring launch", true)
	var added *campaignv1.AddMembersResponse
	require.Eventually(t, func() bool { // the leads read model may lag its write briefly
		added, err = h.client.AddMembers(ctx, &campaignv1.AddMembersRequest{CampaignId: c.GetId(),
			People: []*campaignv1.MemberRef{{Type: campaignv1.MemberType_MEMBER_TYPE_LEAD, PersonId: id}}})
		require.NoError(t, err)
		return added.GetResults()[0].GetOutcome() == campaignv1.AddMemberOutcome_ADD_MEMBER_OUTCOME_ADDED
	}, 10*time.Second, 50*time.Millisecond)

	respond := func(status string) {
		t.Helper()
		_, err := h.client.RecordResponse(ctx, &campaignv1.RecordResponseRequest{Response: &campaignv1.Response{
			CampaignId: c.GetId(), MemberType: campaignv1.MemberType_MEMBER_TYPE_LEAD, PersonId: id, Status: status}})
		require.NoError(t, err)
	}
	respond("sent")
	respond("opened")
	respond("clicked")

	model, err := leads.GetScoringModel(ctx, &leadsv1.GetScoringModelRequest{})
	require.NoError(t, err)
	var want int64
	for _, w := range model.GetModel().GetEngagementWeights() {
		switch w.GetSignal() {
		case leadsv1.EngagementSignal_ENGAGEMENT_SIGNAL_EMAIL_OPENED, leadsv1.EngagementSignal_ENGAGEMENT_SIGNAL_EMAIL_CLICKED:
			want += w.GetPoints()
		}
	}
	require.Positive(t, want, "the default model weighs opens and clicks")
	var got *leadsv1.Lead
	require.Eventually(t, func() bool {
		r, err := leads.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: id})
		require.NoError(t, err)
		got = r.GetLead()
		return got.GetScore().GetEngagement()-before >= want
	}, 15*time.Second, 100*time.Millisecond, "the open and the click never reached the lead")
	require.Equal(t, want, got.GetScore().GetEngagement()-before, "each response counted once")

	respond("unsubscribed")
	require.Eventually(t, func() bool {
		r, err := leads.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: id})
		require.NoError(t, err)
		return r.GetLead().GetEmailOptOut()
	}, 15*time.Second, 100*time.Millisecond, "the unsubscribe never opted the lead out")

	// A campaign the person was never in suppresses them because the lead is opted out.
	other := h.createCampaign(t, "summer", true)
	res, err := h.client.AddMembers(ctx, &campaignv1.AddMembersRequest{CampaignId: other.GetId(),
		People: []*campaignv1.MemberRef{{Type: campaignv1.MemberType_MEMBER_TYPE_LEAD, PersonId: id}}})
	require.NoError(t, err)
	require.Equal(t, campaignv1.AddMemberOutcome_ADD_MEMBER_OUTCOME_SUPPRESSED, res.GetResults()[0].GetOutcome())

}
