// Package campaign is the campaign aggregate: descriptive fields, lifecycle, member status set
// and cost. Decisions are pure functions (state, command, now) → events; Apply folds events
// into the state.
package campaign

import (
	"slices"
	"time"

	"github.com/evcrm/evcrm/libs/money"
)

// MemberStatus is one status of a campaign's member status set.
type MemberStatus struct {
	Name string
	Kind Kind
	// Responded says whether reaching the status counts as having responded.
	Responded bool
}

// DefaultStatuses is the member status set a campaign gets when it names none (campaign.proto).
func DefaultStatuses() []MemberStatus {
	return []MemberStatus{
		{Name: "sent", Kind: KindSent},
		{Name: "opened", Kind: KindOpened},
		{Name: "clicked", Kind: KindClicked, Responded: true},
		{Name: "responded", Kind: KindResponded, Responded: true},
		{Name: "converted", Kind: KindConverted, Responded: true},
		{Name: "bounced", Kind: KindBounced},
		{Name: "unsubscribed", Kind: KindUnsubscribed},
	}
}

// Details are the fields a client sets (CreateCampaign, UpdateCampaign). Every field is
// comparable so that update masks can compare old and new values leaf by leaf.
type Details struct {
	Name        string
	Description string
	Channel     Channel
	// StartDate and EndDate are YYYY-MM-DD or "".
	StartDate       string
	EndDate         string
	Budget          money.Money
	ExpectedRevenue money.Money
	// ExpectedResponsePercent is a canonical decimal "0" to "100", or "".
	ExpectedResponsePercent string
	ParentCampaignID        string
	OwnerID                 string
	TargetSegmentID         string
	MemberStatuses          []MemberStatus
}

func (d Details) clone() Details {
	d.MemberStatuses = slices.Clone(d.MemberStatuses)
	return d
}

// Campaign is the state of one campaign.
type Campaign struct {
	ID      string
	Version uint64
	Details
	Status Status
	// ActualCost is the sum of the cost entries, in the budget's currency.
	ActualCost money.Money
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Exists reports whether the campaign was created.
func (c Campaign) Exists() bool { return c.Version > 0 }

// StatusNamed returns the member status called name.
func (c Campaign) StatusNamed(name string) (MemberStatus, bool) {
	for _, s := range c.MemberStatuses {
		if s.Name == name {
			return s, true
		}
	}
	return MemberStatus{}, false
}

// Currency is the currency of the campaign's money: the budget's, else the expected revenue's,
// else that of the cost recorded so far. (An actual cost of zero may still carry the currency
// the budget had at creation; a non-zero cost pins the budget's and expected revenue's
// currency, see UpdateDetails, so it can never disagree with them.)
func (c Campaign) Currency() string {
	for _, m := range []money.Money{c.Budget, c.ExpectedRevenue, c.ActualCost} {
		if m.Currency != "" {
			return m.Currency
		}
	}
	return ""
}

func (c Campaign) clone() Campaign {
	c.Details = c.Details.clone()
	return c
}
