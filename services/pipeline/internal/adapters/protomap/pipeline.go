package protomap

import (
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// PipelineToProto maps a pipeline definition (id, name, stages, archived, revision), as
// PipelineDefined and PipelineRevised carry it. Version, timestamps and retired stage ids are
// state, not definition: PipelineStateToProto sets them.
func PipelineToProto(p pipelinedef.Pipeline) *pipelinev1.Pipeline {
	out := &pipelinev1.Pipeline{Id: p.ID, Name: p.Name, Archived: p.Archived, Revision: p.Revision}
	for _, s := range p.Stages {
		out.Stages = append(out.Stages, StageToProto(s))
	}
	return out
}

// PipelineFromProto is the lossless inverse of PipelineToProto for what the service wrote (no
// validation; requests go through NewPipelineFromProto and PipelineRevisionFromProto).
func PipelineFromProto(p *pipelinev1.Pipeline) pipelinedef.Pipeline {
	out := pipelinedef.Pipeline{ID: p.GetId(), Name: p.GetName(), Archived: p.GetArchived(), Revision: p.GetRevision()}
	for _, s := range p.GetStages() {
		out.Stages = append(out.Stages, stageFromProto(s))
	}
	return out
}

// PipelineStateToProto maps a pipeline's state: the effective definition (the built-in one for
// the never-revised "default" pipeline, at version 0), its version and retired stage ids. It is
// nil when the pipeline does not exist. created_at and updated_at are not in the domain state
// and stay unset (a read model fills them from the events' occurred_at).
func PipelineStateToProto(s pipelinedef.State) *pipelinev1.Pipeline {
	p, ok := s.Effective()
	if !ok {
		return nil
	}
	out := PipelineToProto(p)
	out.Version = s.Version
	out.RetiredStageIds = cloneOrNil(s.RetiredStageIDs)
	return out
}

// PipelineStateFromProto is the inverse of PipelineStateToProto for a recorded pipeline
// (version > 0); for version 0 it returns pipelinedef.New(id), which is the built-in default for
// "default".
func PipelineStateFromProto(p *pipelinev1.Pipeline) pipelinedef.State {
	if p.GetVersion() == 0 {
		return pipelinedef.New(p.GetId())
	}
	return pipelinedef.State{ID: p.GetId(), Version: p.GetVersion(), Pipeline: PipelineFromProto(p),
		RetiredStageIDs: cloneOrNil(p.GetRetiredStageIds())}
}

// StageToProto maps a stage.
func StageToProto(s pipelinedef.Stage) *pipelinev1.Stage {
	return &pipelinev1.Stage{Id: s.ID, Name: s.Name, DefaultProbability: u32(s.Probability),
		ForecastCategory: CategoryToProto(s.Category), Kind: StageKindToProto(s.Kind)}
}

func stageFromProto(p *pipelinev1.Stage) pipelinedef.Stage {
	return pipelinedef.Stage{ID: p.GetId(), Name: p.GetName(), Probability: fromU32(p.GetDefaultProbability()),
		Category: categories.domain(p.GetForecastCategory()), Kind: stageKinds.domain(p.GetKind())}
}
