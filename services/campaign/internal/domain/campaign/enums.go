package campaign

import "fmt"

// Status is where a campaign stands in its lifecycle: PLANNED → ACTIVE ⇄ PAUSED → COMPLETED,
// or ABORTED from any status but COMPLETED. The numbers are those of crm.campaign.v1.
type Status int

// Campaign statuses.
const (
	StatusUnspecified Status = iota
	StatusPlanned
	StatusActive
	StatusPaused
	StatusCompleted
	StatusAborted
)

var statusNames = [...]string{"UNSPECIFIED", "PLANNED", "ACTIVE", "PAUSED", "COMPLETED", "ABORTED"}

func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Valid reports whether s is a real status.
func (s Status) Valid() bool { return s >= StatusPlanned && s <= StatusAborted }

// Closed reports whether the campaign has ended: it takes no new members.
func (s Status) Closed() bool { return s == StatusCompleted || s == StatusAborted }

// Channel is how a campaign reaches people (numbers of crm.campaign.v1.CampaignChannel).
type Channel int

// Channels.
const (
	ChannelUnspecified Channel = iota
	ChannelEmail
	ChannelSocial
	ChannelPaidAds
	ChannelSearch
	ChannelWebinar
	ChannelTradeShow
	ChannelPrint
	ChannelDirectMail
	ChannelContent
	ChannelReferral
	ChannelPartner
	ChannelOther
)

// Valid reports whether c is a real channel.
func (c Channel) Valid() bool { return c >= ChannelEmail && c <= ChannelOther }

// Kind is what a member status means to metrics, whatever the tenant calls it (numbers of
// crm.campaign.v1.ResponseKind).
type Kind int

// Response kinds.
const (
	KindUnspecified Kind = iota
	KindSent
	KindOpened
	KindClicked
	KindResponded
	KindConverted
	KindBounced
	KindUnsubscribed
	KindOther
)

// Valid reports whether k is a real kind.
func (k Kind) Valid() bool { return k >= KindSent && k <= KindOther }
