package protomap

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
)

// ContractCodec is the eventstore.Codec of the contract aggregate (contract.AggregateType): each
// contract.Event maps to the crm.pipeline.v1 message of the same name, At to the envelope's
// occurred_at (see OpportunityCodec).
type ContractCodec struct{}

var (
	_ eventstore.Codec[contract.Event]        = ContractCodec{}
	_ eventstore.OccurredAter[contract.Event] = ContractCodec{}
)

// OccurredAt implements eventstore.OccurredAter.
func (ContractCodec) OccurredAt(e contract.Event) time.Time { return e.OccurredAt() }

// Encode implements eventstore.Codec.
func (ContractCodec) Encode(ev contract.Event) (proto.Message, error) {
	var e encoder
	var msg proto.Message
	switch ev := ev.(type) {
	case contract.ContractCreated:
		msg = &pipelinev1.ContractCreated{Contract: e.contract(ev.Contract)}
	case contract.ContractActivated:
		msg = &pipelinev1.ContractActivated{}
	case contract.ContractUpdated:
		msg = &pipelinev1.ContractUpdated{ChangedFields: cloneOrNil(ev.Changed), Before: e.contractDetails(ev.Before),
			After: e.contractDetails(ev.After)}
	case contract.ContractTerminated:
		msg = &pipelinev1.ContractTerminated{Reason: ev.Reason, EffectiveDate: DateToProto(ev.EffectiveDate)}
	case contract.ContractExpired:
		msg = &pipelinev1.ContractExpired{}
	case contract.ContractRenewed:
		msg = &pipelinev1.ContractRenewed{EndDate: DateToProto(ev.NewEndDate), RenewalDate: DateToProto(ev.NewRenewalDate),
			Value: e.money(ev.NewValue), Automatic: ev.Automatic}
	case nil:
		return nil, fmt.Errorf("protomap: encode nil contract event")
	default:
		return nil, fmt.Errorf("protomap: no mapping for contract event %T", ev)
	}
	if e.err != nil {
		return nil, fmt.Errorf("encode %s: %w", ev.EventType(), e.err)
	}
	return msg, nil
}

// Decode implements eventstore.Codec. At is the envelope's occurred_at; a payload that is not a
// contract event is an error.
func (ContractCodec) Decode(r eventstore.Recorded) (contract.Event, error) {
	msg, err := r.Payload()
	if err != nil {
		return nil, err
	}
	at := fromTS(r.Envelope.GetOccurredAt())
	var d decoder
	var ev contract.Event
	switch m := msg.(type) {
	case *pipelinev1.ContractCreated:
		c, err := ContractFromProto(m.GetContract())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Envelope.GetEventType(), err)
		}
		ev = contract.ContractCreated{Contract: c, At: at}
	case *pipelinev1.ContractActivated:
		ev = contract.ContractActivated{At: at}
	case *pipelinev1.ContractUpdated:
		ev = contract.ContractUpdated{Changed: cloneOrNil(m.GetChangedFields()), Before: d.contractDetails(m.GetBefore()),
			After: d.contractDetails(m.GetAfter()), At: at}
	case *pipelinev1.ContractTerminated:
		ev = contract.ContractTerminated{Reason: m.GetReason(), EffectiveDate: d.date(m.GetEffectiveDate(), "effective date"), At: at}
	case *pipelinev1.ContractExpired:
		ev = contract.ContractExpired{At: at}
	case *pipelinev1.ContractRenewed:
		ev = contract.ContractRenewed{NewEndDate: d.date(m.GetEndDate(), "end date"),
			NewRenewalDate: d.date(m.GetRenewalDate(), "renewal date"), NewValue: d.money(m.GetValue(), "value"),
			Automatic: m.GetAutomatic(), At: at}
	default:
		return nil, fmt.Errorf("protomap: %s is not a contract event", r.Envelope.GetEventType())
	}
	if d.err != nil {
		return nil, fmt.Errorf("%s: %w", r.Envelope.GetEventType(), d.err)
	}
	return ev, nil
}
