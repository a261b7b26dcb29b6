package campaignmodel_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/campaignmodel"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

// injectionPayloads are values a hostile client may put into an id, a filter or a page token:
// SQL meta characters, statements to smuggle in, NUL and invalid UTF-8, and a long value.
var injectionPayloads = []string{
	"' OR 1=1 --",
	"' OR '1'='1",
	"x'); DROP TABLE members; --",
	`"; DROP TABLE campaigns; --`,
	"%' UNION SELECT body FROM campaigns --",
	"') UNION SELECT id, campaign_id, version, type, person_id, status, kind, responded, unsubscribed, added_at, first_responded_at, last_response_at, added_by, channel FROM members --",
	`" OR "1"="1`,
	`\' OR 1=1 --`,
	`\`,
	"%",
	"_",
	"a\x00' OR 1=1 --",
	"\x00",
	"Ünïcødé ‮ 🙂",
	"\xff\xfe",
	"1; ATTACH DATABASE '/tmp/x.db' AS x; --",
	"9999-12-31' OR '1'='1",
	strings.Repeat("x'", 5000),
}

// TestInjectionThroughEveryFilter sends each payload through every string ListCampaigns,
// ListMembers, GetCampaign, GetMemberHistory (History) and the campaign's member counts hand to
// SQL: ids, owner and parent filters, the active-date range, member statuses, the tenant and the
// page tokens. Alone, a payload matches nothing, without error; next to a real value it changes
// nothing (no other tenant's and no non-matching row); as a page token it is InvalidArgument on
// page_token; as an id NotFound. Afterwards the tables hold what they held before.
func TestInjectionThroughEveryFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t)
	var b campaignmodel.Batch
	seq := uint64(0)
	for _, tenant := range []string{"acme", "globex"} {
		for i := range 20 {
			seq++
			c := camp(fmt.Sprintf("%s-c%02d", tenant, i), 1, campaign.Status(1+i%4), "2025-03-01", "2025-06-30")
			c.OwnerID = fmt.Sprintf("u%d", i%3)
			if i > 0 {
				c.ParentCampaignID = fmt.Sprintf("%s-c%02d", tenant, 0)
			}
			b.Campaigns = append(b.Campaigns, campaignmodel.CampaignChange{Tenant: tenant, State: c, Seq: seq})
		}
		for i := range 60 {
			seq++
			m := mem(tenant+"-c00", fmt.Sprintf("p%02d", i), []string{"", "Sent", "Opened", "Clicked"}[i%4], i%4 == 3, i%10 == 0,
				t0.Add(time.Duration(i)*time.Minute))
			b.Members = append(b.Members, campaignmodel.MemberChange{Tenant: tenant, State: m, Seq: seq})
			b.Touches = append(b.Touches, campaignmodel.TouchRow{Tenant: tenant, Type: member.TypeLead, PersonID: m.PersonID, Seq: seq,
				Touch: campaignmodel.Touch{CampaignID: m.CampaignID, Channel: campaign.ChannelEmail, At: m.AddedAt}})
		}
	}
	require.NoError(t, s.Apply(ctx, "CRM_CAMPAIGN", seq, b))
	before := tableCounts(t, s)

	listCampaigns := func(tenant string, f campaignmodel.CampaignFilter) []string {
		t.Helper()
		f.PageSize = campaignmodel.MaxPageSize
		cs, _, err := s.ListCampaigns(ctx, tenant, f)
		require.NoError(t, err, "%+v", f)
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	listMembers := func(tenant string, f campaignmodel.MemberFilter) []string {
		t.Helper()
		f.PageSize = campaignmodel.MaxPageSize
		ms, _, err := s.ListMembers(ctx, tenant, f)
		require.NoError(t, err, "%+v", f)
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	allCampaigns := listCampaigns("acme", campaignmodel.CampaignFilter{})
	require.Len(t, allCampaigns, 20)
	for _, id := range allCampaigns {
		require.True(t, strings.HasPrefix(id, "acme-"), id)
	}
	allMembers := listMembers("acme", campaignmodel.MemberFilter{CampaignID: "acme-c00"})
	require.Len(t, allMembers, 60)
	counts, err := s.Counts(ctx, "acme", "acme-c00")
	require.NoError(t, err)
	require.EqualValues(t, 60, counts.Members)

	for i, p := range injectionPayloads {
		// Campaign filters: alone, and next to a real value.
		assert.Empty(t, listCampaigns("acme", campaignmodel.CampaignFilter{OwnerIDs: []string{p}}), "payload %d in owner_ids", i)
		assert.Equal(t, listCampaigns("acme", campaignmodel.CampaignFilter{OwnerIDs: []string{"u1"}}),
			listCampaigns("acme", campaignmodel.CampaignFilter{OwnerIDs: []string{p, "u1"}}), "payload %d next to u1 in owner_ids", i)
		assert.Empty(t, listCampaigns("acme", campaignmodel.CampaignFilter{ParentCampaignID: p}), "payload %d in parent_campaign_id", i)
		// Dates are compared as text: a payload selects what its text order selects, never
		// more than some range of real dates would.
		for _, f := range []campaignmodel.CampaignFilter{{ActiveFrom: p}, {ActiveTo: p}, {ActiveFrom: p, ActiveTo: p}} {
			got := listCampaigns("acme", f)
			assert.Subset(t, allCampaigns, got, "payload %d in the active range", i)
			want := allCampaigns
			if (f.ActiveFrom != "" && f.ActiveFrom > "2025-06-30") || (f.ActiveTo != "" && f.ActiveTo < "2025-03-01") {
				want = nil
			}
			assert.Equal(t, want, got, "payload %d in the active range %+v", i, f)
		}

		// Member filters.
		assert.Empty(t, listMembers("acme", campaignmodel.MemberFilter{CampaignID: p}), "payload %d as campaign_id", i)
		assert.Empty(t, listMembers("acme", campaignmodel.MemberFilter{CampaignID: "acme-c00", Statuses: []string{p}}), "payload %d in statuses", i)
		assert.Equal(t, listMembers("acme", campaignmodel.MemberFilter{CampaignID: "acme-c00", Statuses: []string{"Opened"}}),
			listMembers("acme", campaignmodel.MemberFilter{CampaignID: "acme-c00", Statuses: []string{"Opened", p}}),
			"payload %d next to Opened in statuses", i)

		// The payload as the tenant.
		assert.Empty(t, listCampaigns(p, campaignmodel.CampaignFilter{}), "payload %d as tenant", i)
		assert.Empty(t, listMembers(p, campaignmodel.MemberFilter{CampaignID: "acme-c00"}), "payload %d as tenant", i)

		// The payload as a page token.
		_, _, err := s.ListCampaigns(ctx, "acme", campaignmodel.CampaignFilter{PageToken: p})
		requireInvalidPageToken(t, err, i)
		_, _, err = s.ListMembers(ctx, "acme", campaignmodel.MemberFilter{CampaignID: "acme-c00", PageToken: p})
		requireInvalidPageToken(t, err, i)

		// The payload as an id.
		for _, tenant := range []string{"acme", p} {
			_, err = s.GetCampaign(ctx, tenant, p)
			assert.Equal(t, apperr.NotFound, apperr.KindOf(err), "payload %d as campaign id: %v", i, err)
			_, err = s.GetMember(ctx, tenant, p)
			assert.Equal(t, apperr.NotFound, apperr.KindOf(err), "payload %d as member id: %v", i, err)
			ms, ts, err := s.History(ctx, tenant, member.TypeLead, p)
			require.NoError(t, err, "payload %d as person id", i)
			assert.Empty(t, ms, "payload %d as person id", i)
			assert.Empty(t, ts, "payload %d as person id", i)
			c, err := s.Counts(ctx, tenant, p)
			require.NoError(t, err, "payload %d as campaign id of the counts", i)
			assert.Zero(t, c.Members, "payload %d as campaign id of the counts", i)
		}
		got, err := s.GetMembers(ctx, "acme", []string{p, allMembers[0]})
		require.NoError(t, err)
		assert.Len(t, got, 1, "payload %d next to a member id", i)
		_, err = s.GetCampaign(ctx, p, "acme-c00")
		assert.Equal(t, apperr.NotFound, apperr.KindOf(err), "payload %d as tenant: %v", i, err)
	}

	assert.Equal(t, before, tableCounts(t, s), "tables changed")
	assert.Equal(t, allCampaigns, listCampaigns("acme", campaignmodel.CampaignFilter{}), "campaigns after the payloads")
	assert.Equal(t, allMembers, listMembers("acme", campaignmodel.MemberFilter{CampaignID: "acme-c00"}), "members after the payloads")
	after, err := s.Counts(ctx, "acme", "acme-c00")
	require.NoError(t, err)
	assert.Equal(t, counts, after)
}

func requireInvalidPageToken(t *testing.T, err error, i int) {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "payload %d as page token: want an apperr.Error, got %v", i, err)
	assert.Equal(t, apperr.Invalid, e.Kind, "payload %d as page token", i)
	require.NotEmpty(t, e.Fields)
	assert.Equal(t, "page_token", e.Fields[0].Field)
}

// tableCounts counts the rows of each table through a store of the same package's API: the
// number of rows every unfiltered read finds, per tenant.
func tableCounts(t *testing.T, s *campaignmodel.Store) map[string]int {
	t.Helper()
	ctx := context.Background()
	out := map[string]int{}
	for _, tenant := range []string{"acme", "globex"} {
		cs, _, err := s.ListCampaigns(ctx, tenant, campaignmodel.CampaignFilter{PageSize: campaignmodel.MaxPageSize})
		require.NoError(t, err)
		out[tenant+"/campaigns"] = len(cs)
		ms, _, err := s.ListMembers(ctx, tenant, campaignmodel.MemberFilter{CampaignID: tenant + "-c00", PageSize: campaignmodel.MaxPageSize})
		require.NoError(t, err)
		out[tenant+"/members"] = len(ms)
		touches := 0
		for i := range 60 {
			_, ts, err := s.History(ctx, tenant, member.TypeLead, fmt.Sprintf("p%02d", i))
			require.NoError(t, err)
			touches += len(ts)
		}
		out[tenant+"/touches"] = touches
	}
	return out
}
