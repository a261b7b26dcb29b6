package campaignmodel

import (
	"time"

	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

// CampaignFilter selects campaigns for ListCampaigns; empty fields select everything.
type CampaignFilter struct {
	Statuses         []campaign.Status
	Channels         []campaign.Channel
	OwnerIDs         []string
	ParentCampaignID string
	// ActiveFrom and ActiveTo (YYYY-MM-DD) select campaigns running on any day of the range;
	// a campaign without dates runs always.
	ActiveFrom, ActiveTo string
	PageSize             int
	PageToken            string
}

// MemberFilter selects a campaign's members for ListMembers.
type MemberFilter struct {
	CampaignID string
	// Statuses: members whose latest status is one of these; empty: all.
	Statuses      []string
	RespondedOnly bool
	PageSize      int
	PageToken     string
}

// Counts are a campaign's member counts.
type Counts struct {
	Members int64
	// ByStatus maps a latest status to its members ("" for members without a response).
	ByStatus     map[string]int64
	Responded    int64
	Unsubscribed int64
}

// Touch is one membership or response of a person, for attribution.
type Touch struct {
	CampaignID string
	Channel    campaign.Channel
	// Status is "" for the membership itself.
	Status    string
	Kind      campaign.Kind
	Responded bool
	At        time.Time
}

// Person names a lead or contact.
type Person struct {
	Type member.Type
	ID   string
}
