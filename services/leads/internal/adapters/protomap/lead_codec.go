package protomap

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

// LeadCodec is the eventstore.Codec of the lead aggregate: each lead.Event maps to the
// crm.leads.v1 message of the same name. An event's At travels in the envelope (occurred_at),
// not in the payload: Encode returns the payload only and the caller appends it with
// eventstore.Event{OccurredAt: OccurredAt(e)}; Decode takes At from the envelope.
type LeadCodec struct{}

var _ eventstore.Codec[lead.Event] = LeadCodec{}

// OccurredAt is when a lead event happened; the repository records it as the envelope's
// occurred_at (eventstore.OccurredAter), so a lead folded from the log equals the one folded in
// memory after the command.
func (LeadCodec) OccurredAt(e lead.Event) time.Time { return e.OccurredAt() }

var _ eventstore.OccurredAter[lead.Event] = LeadCodec{}

// Encode implements eventstore.Codec.
func (LeadCodec) Encode(e lead.Event) (proto.Message, error) {
	switch e := e.(type) {
	case lead.LeadCreated:
		return &leadsv1.LeadCreated{Lead: LeadToProto(e.Lead),
			AssignmentReason: AssignmentReasonToProto(e.Lead.AssignmentReason)}, nil
	case lead.LeadDetailsUpdated:
		return &leadsv1.LeadDetailsUpdated{ChangedFields: cloneOrNil(e.Changed),
			Before: DetailsToProto(e.Before), After: DetailsToProto(e.After)}, nil
	case lead.LeadStatusChanged:
		return &leadsv1.LeadStatusChanged{
			From:              StatusToProto(e.From),
			To:                StatusToProto(e.To),
			TimeInPrevious:    dur(e.TimeInPrevious),
			QualificationPath: QualificationPathToProto(e.QualificationPath),
			Automatic:         e.Automatic,
			Reason:            e.Reason,
			DisqualifyReason:  DisqualifyReasonToProto(e.DisqualifyReason),
			Remarket:          e.Remarket,
			Source:            SourceToProto(e.Source),
			CampaignId:        e.CampaignID,
			OwnerId:           e.OwnerID,
			TerritoryId:       e.TerritoryID,
			Converted:         ConvertedToProto(e.Converted),
		}, nil
	case lead.BantUpdated:
		return &leadsv1.BantUpdated{Bant: BantToProto(e.Bant)}, nil
	case lead.LeadAssigned:
		return &leadsv1.LeadAssigned{PreviousOwnerId: e.PreviousOwnerID, OwnerId: e.OwnerID,
			Reason: AssignmentReasonToProto(e.Reason), Note: e.Note, TerritoryId: e.TerritoryID}, nil
	case lead.LeadTerritoryChanged:
		return &leadsv1.LeadTerritoryChanged{PreviousTerritoryId: e.PreviousTerritoryID,
			TerritoryId: e.TerritoryID}, nil
	case lead.LeadTagsAdded:
		return &leadsv1.LeadTagsAdded{Tags: cloneOrNil(e.Tags)}, nil
	case lead.LeadTagsRemoved:
		return &leadsv1.LeadTagsRemoved{Tags: cloneOrNil(e.Tags)}, nil
	case lead.EngagementRecorded:
		return &leadsv1.EngagementRecorded{Signal: SignalToProto(e.Signal), Points: e.Points,
			OccurredAt: ts(e.SignalAt), Detail: e.Detail, CampaignId: e.CampaignID,
			Engagement: EngagementToProto(e.Engagement)}, nil
	case lead.LeadScored:
		return &leadsv1.LeadScored{Score: ScoreToProto(e.Score), Trigger: string(e.Trigger)}, nil
	case lead.LeadMerged:
		return &leadsv1.LeadMerged{MergedLeadId: e.MergedLeadID, GainedFields: cloneOrNil(e.Gained),
			Values: DetailsToProto(e.Values), TagsGained: cloneOrNil(e.TagsGained),
			EngagementGained: e.EngagementGained, Engagement: EngagementToProto(e.Engagement)}, nil
	case lead.LeadMergedInto:
		return &leadsv1.LeadMergedInto{SurvivorLeadId: e.SurvivorLeadID}, nil
	case lead.LeadConverted:
		return &leadsv1.LeadConverted{AccountId: e.AccountID, ContactId: e.ContactID,
			OpportunityId: e.OpportunityID, ConvertedBy: e.ConvertedBy, AccountCreated: e.AccountCreated,
			ContactCreated: e.ContactCreated, Source: SourceToProto(e.Source), CampaignId: e.CampaignID,
			OwnerId: e.OwnerID}, nil
	case lead.LeadOpportunityWon:
		return &leadsv1.LeadOpportunityWon{OpportunityId: e.OpportunityID, WonAt: ts(e.WonAt),
			Amount: MoneyToProto(e.Amount), CloseDate: e.CloseDate}, nil
	case lead.LeadErased:
		return &leadsv1.LeadErased{Reason: e.Reason}, nil
	case nil:
		return nil, fmt.Errorf("protomap: encode nil lead event")
	}
	return nil, fmt.Errorf("protomap: no mapping for lead event %T", e)
}

// Decode implements eventstore.Codec. At is the envelope's occurred_at.
func (LeadCodec) Decode(r eventstore.Recorded) (lead.Event, error) {
	msg, err := r.Payload()
	if err != nil {
		return nil, err
	}
	at := fromTS(r.Envelope.GetOccurredAt())
	switch m := msg.(type) {
	case *leadsv1.LeadCreated:
		l := LeadFromProto(m.GetLead())
		// Events written before Lead.assignment_reason existed carry it only on the event.
		if l.AssignmentReason == lead.AssignUnspecified {
			l.AssignmentReason = AssignmentReasonFromProto(m.GetAssignmentReason())
		}
		return lead.LeadCreated{Lead: l, At: at}, nil
	case *leadsv1.LeadDetailsUpdated:
		return lead.LeadDetailsUpdated{Changed: cloneOrNil(m.GetChangedFields()),
			Before: DetailsFromProto(m.GetBefore()), After: DetailsFromProto(m.GetAfter()), At: at}, nil
	case *leadsv1.LeadStatusChanged:
		return lead.LeadStatusChanged{
			From:              lead.Status(m.GetFrom()),
			To:                lead.Status(m.GetTo()),
			TimeInPrevious:    fromDur(m.GetTimeInPrevious()),
			QualificationPath: lead.QualificationPath(m.GetQualificationPath()),
			Automatic:         m.GetAutomatic(),
			Reason:            m.GetReason(),
			DisqualifyReason:  lead.DisqualifyReason(m.GetDisqualifyReason()),
			Remarket:          m.GetRemarket(),
			Source:            lead.Source(m.GetSource()),
			CampaignID:        m.GetCampaignId(),
			OwnerID:           m.GetOwnerId(),
			TerritoryID:       m.GetTerritoryId(),
			Converted:         ConvertedFromProto(m.GetConverted()),
			At:                at,
		}, nil
	case *leadsv1.BantUpdated:
		return lead.BantUpdated{Bant: bantFromProto(m.GetBant()), At: at}, nil
	case *leadsv1.LeadAssigned:
		return lead.LeadAssigned{PreviousOwnerID: m.GetPreviousOwnerId(), OwnerID: m.GetOwnerId(),
			Reason: AssignmentReasonFromProto(m.GetReason()), TerritoryID: m.GetTerritoryId(),
			Note: m.GetNote(), At: at}, nil
	case *leadsv1.LeadTerritoryChanged:
		return lead.LeadTerritoryChanged{PreviousTerritoryID: m.GetPreviousTerritoryId(),
			TerritoryID: m.GetTerritoryId(), At: at}, nil
	case *leadsv1.LeadTagsAdded:
		return lead.LeadTagsAdded{Tags: cloneOrNil(m.GetTags()), At: at}, nil
	case *leadsv1.LeadTagsRemoved:
		return lead.LeadTagsRemoved{Tags: cloneOrNil(m.GetTags()), At: at}, nil
	case *leadsv1.EngagementRecorded:
		return lead.EngagementRecorded{Signal: scoring.Signal(m.GetSignal()), Points: m.GetPoints(),
			SignalAt: fromTS(m.GetOccurredAt()), Detail: m.GetDetail(), CampaignID: m.GetCampaignId(),
			Engagement: EngagementFromProto(m.GetEngagement()), At: at}, nil
	case *leadsv1.LeadScored:
		return lead.LeadScored{Score: ScoreFromProto(m.GetScore()),
			Trigger: lead.ScoreTrigger(m.GetTrigger()), At: at}, nil
	case *leadsv1.LeadMerged:
		return lead.LeadMerged{MergedLeadID: m.GetMergedLeadId(), Gained: cloneOrNil(m.GetGainedFields()),
			Values: DetailsFromProto(m.GetValues()), TagsGained: cloneOrNil(m.GetTagsGained()),
			EngagementGained: m.GetEngagementGained(), Engagement: EngagementFromProto(m.GetEngagement()),
			At: at}, nil
	case *leadsv1.LeadMergedInto:
		return lead.LeadMergedInto{SurvivorLeadID: m.GetSurvivorLeadId(), At: at}, nil
	case *leadsv1.LeadConverted:
		return lead.LeadConverted{Conversion: lead.Conversion{AccountID: m.GetAccountId(),
			ContactID: m.GetContactId(), OpportunityID: m.GetOpportunityId(), ConvertedBy: m.GetConvertedBy(),
			AccountCreated: m.GetAccountCreated(), ContactCreated: m.GetContactCreated()},
			Source: lead.Source(m.GetSource()), CampaignID: m.GetCampaignId(), OwnerID: m.GetOwnerId(), At: at}, nil
	case *leadsv1.LeadOpportunityWon:
		return lead.LeadOpportunityWon{OpportunityID: m.GetOpportunityId(), WonAt: fromTS(m.GetWonAt()),
			Amount: moneyFromProto(m.GetAmount()), CloseDate: m.GetCloseDate(), At: at}, nil
	case *leadsv1.LeadErased:
		return lead.LeadErased{Reason: m.GetReason(), At: at}, nil
	}
	return nil, fmt.Errorf("protomap: %s is not a lead event", r.Envelope.GetEventType())
}
