package protomap

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
)

// CampaignCodec is the eventstore.Codec of the campaign aggregate: each campaign.Event maps to
// the crm.campaign.v1 message of the same name. An event's time travels as the envelope's
// occurred_at, so a campaign folded from the log equals the one folded in memory.
type CampaignCodec struct{}

var (
	_ eventstore.Codec[campaign.Event]        = CampaignCodec{}
	_ eventstore.OccurredAter[campaign.Event] = CampaignCodec{}
)

// OccurredAt implements eventstore.OccurredAter.
func (CampaignCodec) OccurredAt(e campaign.Event) time.Time { return e.OccurredAt() }

// Encode implements eventstore.Codec.
func (CampaignCodec) Encode(ev campaign.Event) (proto.Message, error) {
	switch ev := ev.(type) {
	case campaign.CampaignCreated:
		return &campaignv1.CampaignCreated{Campaign: CampaignToProto(ev.Campaign)}, nil
	case campaign.CampaignUpdated:
		return &campaignv1.CampaignUpdated{ChangedFields: append([]string(nil), ev.Changed...),
			Before: CampaignToProto(ev.Before), After: CampaignToProto(ev.After)}, nil
	case campaign.CampaignStatusChanged:
		return &campaignv1.CampaignStatusChanged{From: campaignv1.CampaignStatus(ev.From), To: campaignv1.CampaignStatus(ev.To), Note: ev.Note}, nil
	case campaign.CampaignCostRecorded:
		return &campaignv1.CampaignCostRecorded{Entry: CostEntryToProto(ev.Entry), ActualCost: moneyToProto(ev.ActualCost),
			Channel: campaignv1.CampaignChannel(ev.Channel)}, nil
	}
	return nil, fmt.Errorf("protomap: unknown campaign event %T", ev)
}

// Decode implements eventstore.Codec.
func (CampaignCodec) Decode(rec eventstore.Recorded) (campaign.Event, error) {
	msg, err := rec.Payload()
	if err != nil {
		return nil, err
	}
	at := rec.Envelope.GetOccurredAt().AsTime()
	return CampaignEventFromProto(msg, at)
}

// CampaignEventFromProto maps a decoded payload of the campaign aggregate (the codec and the
// read model's projector share it).
func CampaignEventFromProto(msg proto.Message, at time.Time) (campaign.Event, error) {
	switch m := msg.(type) {
	case *campaignv1.CampaignCreated:
		c, err := CampaignFromProto(m.GetCampaign())
		if err != nil {
			return nil, err
		}
		return campaign.CampaignCreated{Campaign: c, At: at}, nil
	case *campaignv1.CampaignUpdated:
		b, err := CampaignFromProto(m.GetBefore())
		if err != nil {
			return nil, err
		}
		a, err := CampaignFromProto(m.GetAfter())
		if err != nil {
			return nil, err
		}
		return campaign.CampaignUpdated{Changed: append([]string(nil), m.GetChangedFields()...), Before: b, After: a, At: at}, nil
	case *campaignv1.CampaignStatusChanged:
		return campaign.CampaignStatusChanged{From: campaign.Status(m.GetFrom()), To: campaign.Status(m.GetTo()), Note: m.GetNote(), At: at}, nil
	case *campaignv1.CampaignCostRecorded:
		amt, err := moneyFromProto(m.GetEntry().GetAmount())
		if err != nil {
			return nil, err
		}
		total, err := moneyFromProto(m.GetActualCost())
		if err != nil {
			return nil, err
		}
		return campaign.CampaignCostRecorded{Entry: campaign.CostEntry{Amount: amt, Date: m.GetEntry().GetDate(), Description: m.GetEntry().GetDescription()},
			ActualCost: total, Channel: campaign.Channel(m.GetChannel()), At: at}, nil
	}
	return nil, fmt.Errorf("protomap: %T is not a campaign event", msg)
}
