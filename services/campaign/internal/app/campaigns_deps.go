package app

import (
	"context"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/campaignmodel"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

// CampaignDeps are the adapters of campaigns, members and responses (helper C1).
type CampaignDeps struct {
	Campaigns *eventstore.Repository[campaign.Campaign, campaign.Event]
	Members   *eventstore.Repository[member.Member, member.Event]
	// People answers the suppression check of people added without their flags; nil treats
	// every such person as not found.
	People People
	// Views answers the campaign queries from the read model.
	Views CampaignViews
}

// People is the leads service as the member suppression check sees it. The tenant travels in
// ctx.
type People interface {
	// Contactability reports whether the lead or contact exists and its opt-out flags.
	Contactability(ctx context.Context, t member.Type, id string) (found, emailOptOut, doNotContact bool, err error)
}

// CampaignViews is the campaign read model.
type CampaignViews interface {
	// WaitFor returns once the read model has applied stream sequence seq.
	WaitFor(ctx context.Context, seq uint64) error
	GetCampaign(ctx context.Context, tenant, id string) (campaign.Campaign, error)
	Counts(ctx context.Context, tenant, campaignID string) (Counts, error)
	ListCampaigns(ctx context.Context, tenant string, f CampaignFilter) ([]campaign.Campaign, string, error)
	ListMembers(ctx context.Context, tenant string, f MemberFilter) ([]member.Member, string, error)
	// History returns a person's memberships and every touch, oldest first.
	History(ctx context.Context, tenant string, t member.Type, personID string) ([]member.Member, []Touch, error)
	// Unsubscribed reports which of people unsubscribed in any campaign.
	Unsubscribed(ctx context.Context, tenant string, people []campaignmodel.Person) (map[campaignmodel.Person]bool, error)
}

// The read model's query types.
type (
	CampaignFilter = campaignmodel.CampaignFilter
	MemberFilter   = campaignmodel.MemberFilter
	Counts         = campaignmodel.Counts
	Touch          = campaignmodel.Touch
)
