package app

// CampaignDeps are the adapters of campaigns, members and responses (helper C1).
type CampaignDeps struct{}
