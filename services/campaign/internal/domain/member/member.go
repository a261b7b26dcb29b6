// Package member is the campaign member aggregate: a lead or contact in one campaign and the
// responses it gave. Its id is derived from the campaign and the person, so a person is a
// member of a campaign at most once whichever replica adds it.
package member

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
)

// Type is whether a member is a lead or a contact (numbers of crm.campaign.v1.MemberType).
type Type int

// Member types.
const (
	TypeUnspecified Type = iota
	TypeLead
	TypeContact
)

// Valid reports whether t is a lead or a contact.
func (t Type) Valid() bool { return t == TypeLead || t == TypeContact }

func (t Type) String() string {
	switch t {
	case TypeLead:
		return "lead"
	case TypeContact:
		return "contact"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// ID derives a member's id from the campaign, the member type and the person: a UUID-shaped
// hex string (version nibble 8, "custom") of a SHA-256 of the three, so it is a valid subject
// token and the same person always maps to the same member.
func ID(campaignID string, t Type, personID string) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("member\x00%s\x00%d\x00%s", campaignID, int(t), personID)))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b)
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// Member is the state of one member.
type Member struct {
	ID         string
	Version    uint64
	CampaignID string
	Type       Type
	PersonID   string
	// Status is the latest status reached ("" until the first response).
	Status string
	// Kind is the kind of Status.
	Kind         campaign.Kind
	Responded    bool
	Unsubscribed bool
	AddedAt      time.Time
	// FirstRespondedAt is when a status that counts as a response was first reached.
	FirstRespondedAt time.Time
	LastResponseAt   time.Time
	// AddedBy says how the member came: "manual", "segment:<id>", "rule:<id>".
	AddedBy string
	// Channel is the campaign's channel when the member was added (carried on its events).
	Channel campaign.Channel
	// keys are the idempotency keys of the responses recorded (see Responded.Key); shared
	// between states, never modified after a state is built (Apply copies on write).
	keys map[string]struct{}
}

// Exists reports whether the member was added.
func (m Member) Exists() bool { return m.Version > 0 }

// Seen reports whether a response with idempotency key key was recorded.
func (m Member) Seen(key string) bool {
	_, ok := m.keys[key]
	return key != "" && ok
}
