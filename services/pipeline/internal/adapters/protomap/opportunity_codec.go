package protomap

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
)

// OpportunityCodec is the eventstore.Codec of the opportunity aggregate (quotes included): each
// opportunity.Event maps to the crm.pipeline.v1 message of the same name. An event's At travels
// in the envelope (occurred_at), not in the payload: the repository records OccurredAt(e) as
// the envelope's occurred_at (eventstore.OccurredAter) and Decode takes At from it, so an
// opportunity folded from the log equals the one folded in memory after the command.
type OpportunityCodec struct{}

var (
	_ eventstore.Codec[opportunity.Event]        = OpportunityCodec{}
	_ eventstore.OccurredAter[opportunity.Event] = OpportunityCodec{}
)

// OccurredAt implements eventstore.OccurredAter.
func (OpportunityCodec) OccurredAt(e opportunity.Event) time.Time { return e.OccurredAt() }

// Encode implements eventstore.Codec.
func (OpportunityCodec) Encode(ev opportunity.Event) (proto.Message, error) {
	var e encoder
	var msg proto.Message
	switch ev := ev.(type) {
	case opportunity.OpportunityCreated:
		msg = &pipelinev1.OpportunityCreated{Opportunity: e.opportunity(ev.Opportunity)}
	case opportunity.OpportunityDetailsUpdated:
		msg = &pipelinev1.OpportunityDetailsUpdated{ChangedFields: cloneOrNil(ev.Changed),
			Before: DetailsToProto(ev.Before), After: DetailsToProto(ev.After)}
	case opportunity.OpportunityStageChanged:
		msg = &pipelinev1.OpportunityStageChanged{
			PipelineId:           ev.PipelineID,
			FromStageId:          ev.FromStageID,
			FromStageName:        ev.FromStageName,
			ToStageId:            ev.ToStageID,
			ToStageName:          ev.ToStageName,
			FromForecastCategory: CategoryToProto(ev.FromCategory),
			ToForecastCategory:   CategoryToProto(ev.ToCategory),
			Amount:               e.money(ev.Amount),
			Probability:          u32(ev.Probability),
			TimeInPreviousStage:  dur(ev.TimeInPrevious),
			MovedBy:              ev.MovedBy,
			OwnerId:              ev.OwnerID,
			Direction:            DirectionToProto(ev.Direction),
		}
	case opportunity.OpportunityAmountChanged:
		msg = &pipelinev1.OpportunityAmountChanged{PreviousAmount: e.money(ev.Old), Amount: e.money(ev.New),
			Reason: AmountReasonToProto(ev.Reason), QuoteId: ev.QuoteID}
	case opportunity.OpportunityCloseDateChanged:
		msg = &pipelinev1.OpportunityCloseDateChanged{PreviousExpectedCloseDate: DateToProto(ev.Old),
			ExpectedCloseDate: DateToProto(ev.New), DaysMoved: ev.DaysMoved}
	case opportunity.OpportunityProbabilityChanged:
		msg = &pipelinev1.OpportunityProbabilityChanged{PreviousProbability: u32(ev.Old), Probability: u32(ev.New),
			Overridden: ev.Overridden}
	case opportunity.OpportunityForecastCategoryChanged:
		msg = &pipelinev1.OpportunityForecastCategoryChanged{PreviousForecastCategory: CategoryToProto(ev.Old),
			ForecastCategory: CategoryToProto(ev.New), Overridden: ev.Overridden}
	case opportunity.OpportunityOwnerChanged:
		msg = &pipelinev1.OpportunityOwnerChanged{PreviousOwnerId: ev.Previous, OwnerId: ev.New, Note: ev.Reason}
	case opportunity.OpportunityContactRolesChanged:
		msg = &pipelinev1.OpportunityContactRolesChanged{ContactRoles: ContactRolesToProto(ev.Roles)}
	case opportunity.OpportunityWon:
		msg = &pipelinev1.OpportunityWon{Amount: e.money(ev.FinalAmount), Note: ev.Note, CloseDate: DateToProto(ev.ClosedOn),
			FromStageId: ev.FromStageID, TimeInPreviousStage: dur(ev.TimeInPrevious), DaysOpen: u32(ev.DaysOpen), Deal: dealToProto(ev.Deal)}
	case opportunity.OpportunityLost:
		msg = &pipelinev1.OpportunityLost{Reason: LostReasonToProto(ev.Reason), Competitor: ev.Competitor, Note: ev.Note,
			CloseDate: DateToProto(ev.ClosedOn), FromStageId: ev.FromStageID, TimeInPreviousStage: dur(ev.TimeInPrevious),
			Amount: e.money(ev.Amount), DaysOpen: u32(ev.DaysOpen), Deal: dealToProto(ev.Deal)}
	case opportunity.OpportunityReopened:
		msg = &pipelinev1.OpportunityReopened{StageId: ev.ToStageID, StageName: ev.ToStageName,
			PreviousStatus: StatusToProto(ev.PreviousStatus)}
	case opportunity.QuoteCreated:
		msg = &pipelinev1.QuoteCreated{Quote: e.quote(ev.Quote)}
	case opportunity.QuoteRevised:
		msg = &pipelinev1.QuoteRevised{Quote: e.quote(ev.Quote), PreviousVersion: ev.PreviousVersion}
	case opportunity.QuoteSent:
		msg = &pipelinev1.QuoteSent{QuoteId: ev.QuoteID, Version: ev.Version}
	case opportunity.QuoteAccepted:
		msg = &pipelinev1.QuoteAccepted{QuoteId: ev.QuoteID, Version: ev.Version, Total: e.money(ev.Total)}
	case opportunity.QuoteRejected:
		msg = &pipelinev1.QuoteRejected{QuoteId: ev.QuoteID, Version: ev.Version, Reason: ev.Reason}
	case opportunity.QuoteExpired:
		msg = &pipelinev1.QuoteExpired{QuoteId: ev.QuoteID, Version: ev.Version}
	case nil:
		return nil, fmt.Errorf("protomap: encode nil opportunity event")
	default:
		return nil, fmt.Errorf("protomap: no mapping for opportunity event %T", ev)
	}
	if e.err != nil {
		return nil, fmt.Errorf("encode %s: %w", ev.EventType(), e.err)
	}
	return msg, nil
}

// Decode implements eventstore.Codec. At is the envelope's occurred_at; a payload that is not
// an opportunity event is an error.
func (OpportunityCodec) Decode(r eventstore.Recorded) (opportunity.Event, error) {
	msg, err := r.Payload()
	if err != nil {
		return nil, err
	}
	at := fromTS(r.Envelope.GetOccurredAt())
	var d decoder
	var ev opportunity.Event
	switch m := msg.(type) {
	case *pipelinev1.OpportunityCreated:
		ev = opportunity.OpportunityCreated{Opportunity: d.opportunity(m.GetOpportunity()), At: at}
	case *pipelinev1.OpportunityDetailsUpdated:
		ev = opportunity.OpportunityDetailsUpdated{Changed: cloneOrNil(m.GetChangedFields()),
			Before: DetailsFromProto(m.GetBefore()), After: DetailsFromProto(m.GetAfter()), At: at}
	case *pipelinev1.OpportunityStageChanged:
		ev = opportunity.OpportunityStageChanged{
			PipelineID:     m.GetPipelineId(),
			FromStageID:    m.GetFromStageId(),
			FromStageName:  m.GetFromStageName(),
			ToStageID:      m.GetToStageId(),
			ToStageName:    m.GetToStageName(),
			FromCategory:   categories.domain(m.GetFromForecastCategory()),
			ToCategory:     categories.domain(m.GetToForecastCategory()),
			Amount:         d.money(m.GetAmount(), "amount"),
			Probability:    fromU32(m.GetProbability()),
			TimeInPrevious: fromDur(m.GetTimeInPreviousStage()),
			MovedBy:        m.GetMovedBy(),
			OwnerID:        m.GetOwnerId(),
			Direction:      directions.domain(m.GetDirection()),
			At:             at,
		}
	case *pipelinev1.OpportunityAmountChanged:
		ev = opportunity.OpportunityAmountChanged{Old: d.money(m.GetPreviousAmount(), "previous amount"),
			New: d.money(m.GetAmount(), "amount"), Reason: amountReasons.domain(m.GetReason()), QuoteID: m.GetQuoteId(), At: at}
	case *pipelinev1.OpportunityCloseDateChanged:
		ev = opportunity.OpportunityCloseDateChanged{Old: d.date(m.GetPreviousExpectedCloseDate(), "previous close date"),
			New: d.date(m.GetExpectedCloseDate(), "close date"), DaysMoved: m.GetDaysMoved(), At: at}
	case *pipelinev1.OpportunityProbabilityChanged:
		ev = opportunity.OpportunityProbabilityChanged{Old: fromU32(m.GetPreviousProbability()),
			New: fromU32(m.GetProbability()), Overridden: m.GetOverridden(), At: at}
	case *pipelinev1.OpportunityForecastCategoryChanged:
		ev = opportunity.OpportunityForecastCategoryChanged{Old: categories.domain(m.GetPreviousForecastCategory()),
			New: categories.domain(m.GetForecastCategory()), Overridden: m.GetOverridden(), At: at}
	case *pipelinev1.OpportunityOwnerChanged:
		ev = opportunity.OpportunityOwnerChanged{Previous: m.GetPreviousOwnerId(), New: m.GetOwnerId(), Reason: m.GetNote(), At: at}
	case *pipelinev1.OpportunityContactRolesChanged:
		ev = opportunity.OpportunityContactRolesChanged{Roles: contactRolesFromProto(m.GetContactRoles()), At: at}
	case *pipelinev1.OpportunityWon:
		ev = opportunity.OpportunityWon{FinalAmount: d.money(m.GetAmount(), "final amount"), Note: m.GetNote(),
			ClosedOn: d.date(m.GetCloseDate(), "close date"), FromStageID: m.GetFromStageId(),
			TimeInPrevious: fromDur(m.GetTimeInPreviousStage()), DaysOpen: fromU32(m.GetDaysOpen()), Deal: dealFromProto(m.GetDeal()), At: at}
	case *pipelinev1.OpportunityLost:
		ev = opportunity.OpportunityLost{Reason: lostReasons.domain(m.GetReason()), Competitor: m.GetCompetitor(),
			Note: m.GetNote(), ClosedOn: d.date(m.GetCloseDate(), "close date"), FromStageID: m.GetFromStageId(),
			TimeInPrevious: fromDur(m.GetTimeInPreviousStage()), Amount: d.money(m.GetAmount(), "lost amount"),
			DaysOpen: fromU32(m.GetDaysOpen()), Deal: dealFromProto(m.GetDeal()), At: at}
	case *pipelinev1.OpportunityReopened:
		ev = opportunity.OpportunityReopened{ToStageID: m.GetStageId(), ToStageName: m.GetStageName(),
			PreviousStatus: statuses.domain(m.GetPreviousStatus()), At: at}
	case *pipelinev1.QuoteCreated:
		ev = opportunity.QuoteCreated{Quote: d.quote(m.GetQuote()), At: at}
	case *pipelinev1.QuoteRevised:
		ev = opportunity.QuoteRevised{Quote: d.quote(m.GetQuote()), PreviousVersion: m.GetPreviousVersion(), At: at}
	case *pipelinev1.QuoteSent:
		ev = opportunity.QuoteSent{QuoteID: m.GetQuoteId(), Version: m.GetVersion(), At: at}
	case *pipelinev1.QuoteAccepted:
		ev = opportunity.QuoteAccepted{QuoteID: m.GetQuoteId(), Version: m.GetVersion(), Total: d.money(m.GetTotal(), "total"), At: at}
	case *pipelinev1.QuoteRejected:
		ev = opportunity.QuoteRejected{QuoteID: m.GetQuoteId(), Version: m.GetVersion(), Reason: m.GetReason(), At: at}
	case *pipelinev1.QuoteExpired:
		ev = opportunity.QuoteExpired{QuoteID: m.GetQuoteId(), Version: m.GetVersion(), At: at}
	default:
		return nil, fmt.Errorf("protomap: %s is not an opportunity event", r.Envelope.GetEventType())
	}
	if d.err != nil {
		return nil, fmt.Errorf("%s: %w", r.Envelope.GetEventType(), d.err)
	}
	return ev, nil
}

func dealToProto(d opportunity.Deal) *pipelinev1.Deal {
	return &pipelinev1.Deal{PipelineId: d.PipelineID, OwnerId: d.OwnerID, AccountId: d.AccountID, LeadId: d.LeadID,
		PrimaryCampaignId: d.PrimaryCampaignID, Source: SourceToProto(d.Source)}
}

// dealFromProto maps the close context; events recorded before it existed decode to the zero
// Deal.
func dealFromProto(p *pipelinev1.Deal) opportunity.Deal {
	return opportunity.Deal{PipelineID: p.GetPipelineId(), OwnerID: p.GetOwnerId(), AccountID: p.GetAccountId(),
		LeadID: p.GetLeadId(), PrimaryCampaignID: p.GetPrimaryCampaignId(), Source: sources.domain(p.GetSource())}
}
