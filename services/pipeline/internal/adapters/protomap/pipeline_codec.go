package protomap

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// PipelineCodec is the eventstore.Codec of the pipeline aggregate (pipelinedef.AggregateType):
// each pipelinedef.Event maps to the crm.pipeline.v1 message of the same name, At to the
// envelope's occurred_at (see OpportunityCodec).
type PipelineCodec struct{}

var (
	_ eventstore.Codec[pipelinedef.Event]        = PipelineCodec{}
	_ eventstore.OccurredAter[pipelinedef.Event] = PipelineCodec{}
)

// OccurredAt implements eventstore.OccurredAter.
func (PipelineCodec) OccurredAt(e pipelinedef.Event) time.Time { return e.OccurredAt() }

// Encode implements eventstore.Codec.
func (PipelineCodec) Encode(e pipelinedef.Event) (proto.Message, error) {
	switch e := e.(type) {
	case pipelinedef.PipelineDefined:
		return &pipelinev1.PipelineDefined{Pipeline: PipelineToProto(e.Pipeline)}, nil
	case pipelinedef.PipelineRevised:
		return &pipelinev1.PipelineRevised{Pipeline: PipelineToProto(e.Pipeline), AddedStageIds: cloneOrNil(e.Added),
			RemovedStageIds: cloneOrNil(e.Removed), RenamedStageIds: cloneOrNil(e.Renamed)}, nil
	case pipelinedef.PipelineArchived:
		return &pipelinev1.PipelineArchived{}, nil
	case nil:
		return nil, fmt.Errorf("protomap: encode nil pipeline event")
	}
	return nil, fmt.Errorf("protomap: no mapping for pipeline event %T", e)
}

// Decode implements eventstore.Codec. At is the envelope's occurred_at; a payload that is not a
// pipeline event is an error.
func (PipelineCodec) Decode(r eventstore.Recorded) (pipelinedef.Event, error) {
	msg, err := r.Payload()
	if err != nil {
		return nil, err
	}
	at := fromTS(r.Envelope.GetOccurredAt())
	switch m := msg.(type) {
	case *pipelinev1.PipelineDefined:
		return pipelinedef.PipelineDefined{Pipeline: PipelineFromProto(m.GetPipeline()), At: at}, nil
	case *pipelinev1.PipelineRevised:
		return pipelinedef.PipelineRevised{Pipeline: PipelineFromProto(m.GetPipeline()),
			Added: cloneOrNil(m.GetAddedStageIds()), Removed: cloneOrNil(m.GetRemovedStageIds()),
			Renamed: cloneOrNil(m.GetRenamedStageIds()), At: at}, nil
	case *pipelinev1.PipelineArchived:
		return pipelinedef.PipelineArchived{At: at}, nil
	}
	return nil, fmt.Errorf("protomap: %s is not a pipeline event", r.Envelope.GetEventType())
}
