package campaignmodel_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/campaignmodel"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func open(t *testing.T) *campaignmodel.Store {
	t.Helper()
	s, err := campaignmodel.Open(context.Background(), "", sqlitemodel.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func camp(id string, v uint64, st campaign.Status, start, end string) campaign.Campaign {
	return campaign.Campaign{ID: id, Version: v, Status: st, CreatedAt: t0, UpdatedAt: t0,
		Details: campaign.Details{Name: "n-" + id, Channel: campaign.ChannelEmail, StartDate: start, EndDate: end,
			MemberStatuses: campaign.DefaultStatuses(), OwnerID: "u1"}}
}

func mem(campaignID, person string, status string, responded, unsub bool, added time.Time) member.Member {
	return member.Member{ID: member.ID(campaignID, member.TypeLead, person), Version: 1, CampaignID: campaignID, Type: member.TypeLead,
		PersonID: person, Status: status, Responded: responded, Unsubscribed: unsub, AddedAt: added, AddedBy: "manual"}
}

func TestCampaignsAndCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t)
	require.NoError(t, s.Apply(ctx, "CRM_CAMPAIGN", 3, campaignmodel.Batch{Campaigns: []campaignmodel.CampaignChange{
		{Tenant: "acme", State: camp("c1", 2, campaign.StatusActive, "2025-03-01", "2025-03-31"), Seq: 2},
		{Tenant: "acme", State: camp("c2", 1, campaign.StatusPlanned, "2025-05-01", ""), Seq: 3},
		{Tenant: "other", State: camp("c3", 1, campaign.StatusPlanned, "", ""), Seq: 1},
	}}))
	assert.Equal(t, uint64(3), s.Applied("CRM_CAMPAIGN"))
	// A replayed older state does not overwrite a newer one.
	require.NoError(t, s.Apply(ctx, "CRM_CAMPAIGN", 3, campaignmodel.Batch{Campaigns: []campaignmodel.CampaignChange{
		{Tenant: "acme", State: camp("c1", 1, campaign.StatusPlanned, "", ""), Seq: 1}}}))
	c, err := s.GetCampaign(ctx, "acme", "c1")
	require.NoError(t, err)
	assert.Equal(t, campaign.StatusActive, c.Status)
	assert.Equal(t, camp("c1", 2, campaign.StatusActive, "2025-03-01", "2025-03-31"), c)
	_, err = s.GetCampaign(ctx, "other", "c1")
	assert.Equal(t, apperr.NotFound, apperr.KindOf(err))

	list := func(f campaignmodel.CampaignFilter) []string {
		cs, _, err := s.ListCampaigns(ctx, "acme", f)
		require.NoError(t, err)
		var ids []string
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		return ids
	}
	assert.Equal(t, []string{"c1", "c2"}, list(campaignmodel.CampaignFilter{}))
	assert.Equal(t, []string{"c2"}, list(campaignmodel.CampaignFilter{Statuses: []campaign.Status{campaign.StatusPlanned}}))
	assert.Equal(t, []string{"c1"}, list(campaignmodel.CampaignFilter{ActiveFrom: "2025-03-10", ActiveTo: "2025-03-20"}))
	assert.Equal(t, []string{"c2"}, list(campaignmodel.CampaignFilter{ActiveFrom: "2025-06-01"}))
	page, next, err := s.ListCampaigns(ctx, "acme", campaignmodel.CampaignFilter{PageSize: 1})
	require.NoError(t, err)
	require.Len(t, page, 1)
	page2, next2, err := s.ListCampaigns(ctx, "acme", campaignmodel.CampaignFilter{PageSize: 1, PageToken: next})
	require.NoError(t, err)
	assert.Equal(t, "c2", page2[0].ID)
	assert.Empty(t, next2)
	_, _, err = s.ListCampaigns(ctx, "acme", campaignmodel.CampaignFilter{PageSize: 1, PageToken: next, OwnerIDs: []string{"x"}})
	assert.Equal(t, apperr.Invalid, apperr.KindOf(err), "a token of another query")

	var ms []campaignmodel.MemberChange
	for i, st := range []string{"", "sent", "sent", "clicked", "unsubscribed"} {
		ms = append(ms, campaignmodel.MemberChange{Tenant: "acme", Seq: uint64(10 + i),
			State: mem("c1", fmt.Sprintf("p%d", i), st, st == "clicked", st == "unsubscribed", t0)})
	}
	require.NoError(t, s.Apply(ctx, "CRM_CAMPAIGN", 20, campaignmodel.Batch{Members: ms}))
	n, err := s.Counts(ctx, "acme", "c1")
	require.NoError(t, err)
	assert.Equal(t, campaignmodel.Counts{Members: 5, ByStatus: map[string]int64{"": 1, "sent": 2, "clicked": 1, "unsubscribed": 1},
		Responded: 1, Unsubscribed: 1}, n)

	got, _, err := s.ListMembers(ctx, "acme", campaignmodel.MemberFilter{CampaignID: "c1", Statuses: []string{"sent"}})
	require.NoError(t, err)
	assert.Len(t, got, 2)
	got, _, err = s.ListMembers(ctx, "acme", campaignmodel.MemberFilter{CampaignID: "c1", RespondedOnly: true})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "p3", got[0].PersonID)
	var all []string
	tok := ""
	for {
		page, next, err := s.ListMembers(ctx, "acme", campaignmodel.MemberFilter{CampaignID: "c1", PageSize: 2, PageToken: tok})
		require.NoError(t, err)
		for _, m := range page {
			all = append(all, m.PersonID)
		}
		if next == "" {
			break
		}
		tok = next
	}
	assert.Len(t, all, 5)

	un, err := s.Unsubscribed(ctx, "acme", []campaignmodel.Person{{Type: member.TypeLead, ID: "p4"}, {Type: member.TypeLead, ID: "p1"}})
	require.NoError(t, err)
	assert.Equal(t, map[campaignmodel.Person]bool{{Type: member.TypeLead, ID: "p4"}: true}, un)
}

func TestHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t)
	touch := func(seq uint64, c, status string, at time.Time) campaignmodel.TouchRow {
		return campaignmodel.TouchRow{Tenant: "acme", Type: member.TypeLead, PersonID: "p1", Seq: seq,
			Touch: campaignmodel.Touch{CampaignID: c, Channel: campaign.ChannelEmail, Status: status, At: at}}
	}
	b := campaignmodel.Batch{
		Members: []campaignmodel.MemberChange{
			{Tenant: "acme", State: mem("c2", "p1", "", false, false, t0.Add(time.Hour)), Seq: 3},
			{Tenant: "acme", State: mem("c1", "p1", "sent", false, false, t0), Seq: 1},
		},
		Touches: []campaignmodel.TouchRow{touch(3, "c2", "", t0.Add(time.Hour)), touch(1, "c1", "", t0), touch(2, "c1", "sent", t0.Add(2*time.Hour))},
	}
	require.NoError(t, s.Apply(ctx, "CRM_CAMPAIGN", 3, b))
	require.NoError(t, s.Apply(ctx, "CRM_CAMPAIGN", 3, b), "a redelivered batch stores its touches once")
	ms, ts, err := s.History(ctx, "acme", member.TypeLead, "p1")
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, "c1", ms[0].CampaignID)
	require.Len(t, ts, 3)
	assert.Equal(t, []string{"c1", "c2", "c1"}, []string{ts[0].CampaignID, ts[1].CampaignID, ts[2].CampaignID})
	assert.Equal(t, "sent", ts[2].Status)
}
