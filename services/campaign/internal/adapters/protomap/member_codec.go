package protomap

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

// MemberCodec is the eventstore.Codec of the member aggregate. A response's idempotency key is
// not in the payload: the app records it as the event's causation id behind KeyPrefix, and
// Decode restores member.Responded.Key from there, so a member folded from the log knows the
// responses it has seen.
type MemberCodec struct {
	// KeyPrefix marks causation ids that carry a response key.
	KeyPrefix string
}

var (
	_ eventstore.Codec[member.Event]        = MemberCodec{}
	_ eventstore.OccurredAter[member.Event] = MemberCodec{}
)

// OccurredAt implements eventstore.OccurredAter.
func (MemberCodec) OccurredAt(e member.Event) time.Time { return e.OccurredAt() }

// Encode implements eventstore.Codec.
func (MemberCodec) Encode(ev member.Event) (proto.Message, error) {
	switch ev := ev.(type) {
	case member.Added:
		return &campaignv1.CampaignMemberAdded{Member: MemberToProto(ev.Member), Channel: campaignv1.CampaignChannel(ev.Member.Channel)}, nil
	case member.Responded:
		return &campaignv1.CampaignMemberResponded{
			CampaignId: ev.CampaignID, MemberType: campaignv1.MemberType(ev.Type), PersonId: ev.PersonID, Status: ev.Status,
			Kind: KindToProto(ev.Kind), Responded: ev.Responded, FirstResponse: ev.FirstResponse,
			OccurredAt: timestamp(ev.At), Metadata: maps.Clone(ev.Metadata), Channel: campaignv1.CampaignChannel(ev.Channel),
		}, nil
	}
	return nil, fmt.Errorf("protomap: unknown member event %T", ev)
}

// Decode implements eventstore.Codec.
func (c MemberCodec) Decode(rec eventstore.Recorded) (member.Event, error) {
	msg, err := rec.Payload()
	if err != nil {
		return nil, err
	}
	ev, err := MemberEventFromProto(msg, rec.Envelope.GetOccurredAt().AsTime())
	if err != nil {
		return nil, err
	}
	if r, ok := ev.(member.Responded); ok && c.KeyPrefix != "" {
		if k, ok := strings.CutPrefix(rec.Envelope.GetCausationId(), c.KeyPrefix); ok {
			r.Key = k
			ev = r
		}
	}
	return ev, nil
}

// MemberEventFromProto maps a decoded payload of the member aggregate.
func MemberEventFromProto(msg proto.Message, at time.Time) (member.Event, error) {
	switch m := msg.(type) {
	case *campaignv1.CampaignMemberAdded:
		mm := MemberFromProto(m.GetMember())
		mm.Channel = campaign.Channel(m.GetChannel())
		return member.Added{Member: mm, At: at}, nil
	case *campaignv1.CampaignMemberResponded:
		if err := checkKind(m.GetKind()); err != nil {
			return nil, err
		}
		occurred := at
		if m.GetOccurredAt() != nil {
			occurred = m.GetOccurredAt().AsTime()
		}
		return member.Responded{
			CampaignID: m.GetCampaignId(), Type: member.Type(m.GetMemberType()), PersonID: m.GetPersonId(), Status: m.GetStatus(),
			Kind: campaign.Kind(m.GetKind()), Responded: m.GetResponded(), FirstResponse: m.GetFirstResponse(), At: occurred,
			Metadata: nilIfEmpty(m.GetMetadata()), Channel: campaign.Channel(m.GetChannel()),
		}, nil
	}
	return nil, fmt.Errorf("protomap: %T is not a member event", msg)
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
