package member

import (
	"maps"
	"time"

	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
)

// Event is a fact about one member. The set is closed (the unexported method).
type Event interface {
	EventType() string
	OccurredAt() time.Time
	isMemberEvent()
}

// Added is CampaignMemberAdded, the first event of every member.
type Added struct {
	Member Member
	At     time.Time
}

// Responded is CampaignMemberResponded: the member reached a status of the campaign's set.
type Responded struct {
	CampaignID string
	Type       Type
	PersonID   string
	Status     string
	Kind       campaign.Kind
	// Responded: the status counts as a response; FirstResponse: it is the member's first.
	Responded     bool
	FirstResponse bool
	At            time.Time
	Metadata      map[string]string
	Channel       campaign.Channel
	// Key is the response's idempotency key ("" for none). It is not part of the payload: the
	// codec keeps it as the event's causation id, so folding the log restores the keys.
	Key string
}

func (Added) EventType() string     { return "CampaignMemberAdded" }
func (Responded) EventType() string { return "CampaignMemberResponded" }

func (e Added) OccurredAt() time.Time     { return e.At }
func (e Responded) OccurredAt() time.Time { return e.At }

func (Added) isMemberEvent()     {}
func (Responded) isMemberEvent() {}

// Apply folds one event into the state. It is pure: m is not modified.
func Apply(m Member, e Event) Member {
	switch e := e.(type) {
	case Added:
		n := e.Member
		n.Version = m.Version + 1
		n.keys = nil
		return n
	case Responded:
		m.Version++
		// The latest status is that of the latest response; a late report of an older one
		// (platforms report out of order) leaves it.
		if m.Status == "" || !e.At.Before(m.LastResponseAt) {
			m.Status, m.Kind, m.LastResponseAt = e.Status, e.Kind, e.At
		}
		if e.Responded {
			if !m.Responded || e.At.Before(m.FirstRespondedAt) {
				m.FirstRespondedAt = e.At
			}
			m.Responded = true
		}
		if e.Kind == campaign.KindUnsubscribed {
			m.Unsubscribed = true
		}
		if e.Key != "" {
			keys := make(map[string]struct{}, len(m.keys)+1)
			maps.Copy(keys, m.keys)
			keys[e.Key] = struct{}{}
			m.keys = keys
		}
	}
	return m
}
