package member

import (
	"errors"
	"fmt"
	"maps"
	"time"
	"unicode/utf8"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
)

// Limits of a response.
const (
	MaxMetadataKeys   = 20
	MaxMetadataKey    = 64
	MaxMetadataValue  = 1024
	MaxFutureResponse = 24 * time.Hour
)

// Add decides adding a person to a campaign. A member that exists already yields no events
// (adding twice is idempotent); a closed campaign takes no members.
func Add(m Member, c campaign.Campaign, t Type, personID, addedBy string, now time.Time) ([]Event, error) {
	if m.Exists() {
		return nil, nil
	}
	if c.Status.Closed() {
		return nil, apperr.Precondition("CAMPAIGN_CLOSED", "campaign is %s and takes no members", c.Status)
	}
	n := Member{ID: ID(c.ID, t, personID), CampaignID: c.ID, Type: t, PersonID: personID, AddedAt: now, AddedBy: addedBy, Channel: c.Channel}
	return []Event{Added{Member: n, At: now}}, nil
}

// Response is one response to record. Field paths are those of crm.campaign.v1.Response under
// "response".
type Response struct {
	Status     string
	OccurredAt time.Time
	Metadata   map[string]string
	// Key is the idempotency key ("<batch_id>:<index>" in bulk); a response whose key the
	// member has seen is a duplicate and appends nothing.
	Key string
}

// ErrDuplicate is not an error to report: Respond returns it with no events when the
// response's key was recorded before, so the caller can count duplicates.
var ErrDuplicate = errors.New("member: duplicate response")

// Respond decides RecordResponse for member m of campaign c. A non-member, an unknown status
// and bad metadata are InvalidArgument; a send after the member unsubscribed is
// FailedPrecondition "member unsubscribed".
func Respond(m Member, c campaign.Campaign, r Response, now time.Time) ([]Event, error) {
	if m.Exists() && m.Seen(r.Key) {
		return nil, ErrDuplicate
	}
	var v apperr.Violations
	if !m.Exists() {
		v.Add("response.person_id", "not a member of campaign %s", c.ID)
	}
	st, ok := c.StatusNamed(r.Status)
	if !ok {
		v.Add("response.status", "%q is not a status of the campaign's member status set", r.Status)
	}
	at := r.OccurredAt
	if at.IsZero() {
		at = now
	} else if at.After(now.Add(MaxFutureResponse)) {
		v.Add("response.occurred_at", "more than a day in the future")
	}
	validateMetadata(r.Metadata, &v)
	if err := v.Err("invalid response"); err != nil {
		return nil, err
	}
	if m.Unsubscribed && st.Kind == campaign.KindSent {
		return nil, apperr.Precondition("MEMBER_UNSUBSCRIBED", "member unsubscribed")
	}
	return []Event{Responded{
		CampaignID: m.CampaignID, Type: m.Type, PersonID: m.PersonID, Status: st.Name, Kind: st.Kind,
		Responded: st.Responded, FirstResponse: st.Responded && !m.Responded, At: at.UTC(),
		Metadata: maps.Clone(r.Metadata), Channel: c.Channel, Key: r.Key,
	}}, nil
}

func validateMetadata(md map[string]string, v *apperr.Violations) {
	if len(md) > MaxMetadataKeys {
		v.Add("response.metadata", "at most %d keys", MaxMetadataKeys)
		return
	}
	for k, val := range md {
		if k == "" || len(k) > MaxMetadataKey || !utf8.ValidString(k) {
			v.Add("response.metadata", "key %q: 1 to %d bytes of UTF-8", k, MaxMetadataKey)
		}
		if len(val) > MaxMetadataValue || !utf8.ValidString(val) {
			v.Add(fmt.Sprintf("response.metadata[%s]", k), "at most %d bytes of UTF-8", MaxMetadataValue)
		}
	}
}
