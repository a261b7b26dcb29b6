package campaign

import (
	"time"

	"github.com/evcrm/evcrm/libs/money"
)

// Event is a fact about one campaign. The set is closed (the unexported method): the codec
// maps each type to the crm.campaign.v1 message of the same name.
type Event interface {
	// EventType is the event's name and the last token of its subject.
	EventType() string
	// OccurredAt is when the fact happened.
	OccurredAt() time.Time
	isCampaignEvent()
}

// CampaignCreated is the first event of every campaign: the campaign as created.
type CampaignCreated struct {
	Campaign Campaign
	At       time.Time
}

// CampaignUpdated records changed fields: Changed lists the leaf paths in canonical order,
// Before and After hold the campaign before and after the change.
type CampaignUpdated struct {
	Changed []string
	Before  Campaign
	After   Campaign
	At      time.Time
}

// CampaignStatusChanged is a lifecycle move.
type CampaignStatusChanged struct {
	From, To Status
	Note     string
	At       time.Time
}

// CostEntry is money spent on a campaign.
type CostEntry struct {
	Amount money.Money
	// Date is the YYYY-MM-DD the cost was incurred.
	Date        string
	Description string
}

// CampaignCostRecorded is money spent; ActualCost is the total after this entry.
type CampaignCostRecorded struct {
	Entry      CostEntry
	ActualCost money.Money
	Channel    Channel
	At         time.Time
}

func (CampaignCreated) EventType() string       { return "CampaignCreated" }
func (CampaignUpdated) EventType() string       { return "CampaignUpdated" }
func (CampaignStatusChanged) EventType() string { return "CampaignStatusChanged" }
func (CampaignCostRecorded) EventType() string  { return "CampaignCostRecorded" }

func (e CampaignCreated) OccurredAt() time.Time       { return e.At }
func (e CampaignUpdated) OccurredAt() time.Time       { return e.At }
func (e CampaignStatusChanged) OccurredAt() time.Time { return e.At }
func (e CampaignCostRecorded) OccurredAt() time.Time  { return e.At }

func (CampaignCreated) isCampaignEvent()       {}
func (CampaignUpdated) isCampaignEvent()       {}
func (CampaignStatusChanged) isCampaignEvent() {}
func (CampaignCostRecorded) isCampaignEvent()  {}

// Apply folds one event into the state. It is pure: c is not modified.
func Apply(c Campaign, e Event) Campaign {
	if ev, ok := e.(CampaignCreated); ok {
		n := ev.Campaign.clone()
		n.Version = c.Version + 1
		return n
	}
	c = c.clone()
	c.Version++
	c.UpdatedAt = e.OccurredAt()
	switch e := e.(type) {
	case CampaignUpdated:
		c.Details = e.After.Details.clone()
	case CampaignStatusChanged:
		c.Status = e.To
	case CampaignCostRecorded:
		c.ActualCost = e.ActualCost
	}
	return c
}
