package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/services/campaign/internal/app"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

// When the store fails one response of a member, the member's later responses of the batch
// must wait for the resend: recorded now, they would come before the failed one (a send
// recorded ahead of the unsubscribe that precedes it in the batch).
func TestBulkStopsAMembersResponsesAtAStoreFailure(t *testing.T) {
	t.Parallel()
	e := newEngineEnv(t)
	ctx := context.Background()
	c, _, err := e.app.CreateCampaign(ctx, "acme", campaign.Details{Name: "X", Channel: campaign.ChannelEmail}, app.Write{})
	require.NoError(t, err)
	_, _, err = e.app.ChangeCampaignStatus(ctx, "acme", c.ID, campaign.StatusActive, "", app.Write{})
	require.NoError(t, err)
	res, _, err := e.app.AddMembers(ctx, "acme", c.ID, []app.Person{{Type: member.TypeLead, ID: "lead-1"}}, "manual", app.Write{})
	require.NoError(t, err)
	require.Equal(t, app.AddAdded, res[0].Outcome)

	// A message size limit the first response's metadata exceeds: a failure of the store,
	// not of the response.
	s, err := e.js.Stream(ctx, eventstore.CampaignStream.Name)
	require.NoError(t, err)
	cfg := s.CachedInfo().Config
	cfg.MaxMsgSize = 4096
	_, err = e.js.UpdateStream(ctx, cfg)
	require.NoError(t, err)
	big := map[string]string{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		big[k] = strings.Repeat("x", 1000)
	}
	_, err = e.app.RecordResponses(ctx, "acme", app.Batch{ID: "b1", Responses: []app.Response{
		{CampaignID: c.ID, Type: member.TypeLead, PersonID: "lead-1", Status: "unsubscribed", Metadata: big},
		{CampaignID: c.ID, Type: member.TypeLead, PersonID: "lead-1", Status: "sent"},
	}})
	require.Error(t, err, "the store refused response 0")

	recs, _, err := e.store.Load(ctx, eventstore.Ref{Tenant: "acme", Type: "member", ID: member.ID(c.ID, member.TypeLead, "lead-1")})
	require.NoError(t, err)
	assert.Len(t, recs, 1, "only the membership: the send after the failed unsubscribe waits for the resend")
}
