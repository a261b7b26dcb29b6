package protomap

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinecfg"
)

// ConfigCodec is the eventstore.Codec of the tenant's pipeline configuration
// (pipelinecfg.AggregateType): PipelineConfigUpdated carries the whole configuration with its
// version in PipelineConfig.version; At is the envelope's occurred_at (see OpportunityCodec).
type ConfigCodec struct{}

var (
	_ eventstore.Codec[pipelinecfg.Event]        = ConfigCodec{}
	_ eventstore.OccurredAter[pipelinecfg.Event] = ConfigCodec{}
)

// OccurredAt implements eventstore.OccurredAter.
func (ConfigCodec) OccurredAt(e pipelinecfg.Event) time.Time { return e.OccurredAt() }

// Encode implements eventstore.Codec.
func (ConfigCodec) Encode(e pipelinecfg.Event) (proto.Message, error) {
	switch e := e.(type) {
	case pipelinecfg.PipelineConfigUpdated:
		return &pipelinev1.PipelineConfigUpdated{Config: configToProto(e.Config, e.Version)}, nil
	case nil:
		return nil, fmt.Errorf("protomap: encode nil pipeline configuration event")
	}
	return nil, fmt.Errorf("protomap: no mapping for pipeline configuration event %T", e)
}

// Decode implements eventstore.Codec. At is the envelope's occurred_at; a payload that is not a
// configuration event is an error.
func (ConfigCodec) Decode(r eventstore.Recorded) (pipelinecfg.Event, error) {
	msg, err := r.Payload()
	if err != nil {
		return nil, err
	}
	if m, ok := msg.(*pipelinev1.PipelineConfigUpdated); ok {
		return pipelinecfg.PipelineConfigUpdated{Config: configFromProto(m.GetConfig()), Version: m.GetConfig().GetVersion(),
			At: fromTS(r.Envelope.GetOccurredAt())}, nil
	}
	return nil, fmt.Errorf("protomap: %s is not a pipeline configuration event", r.Envelope.GetEventType())
}
