package app

import (
	"context"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinecfg"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// PipelineOutcome is a pipeline after a command.
type PipelineOutcome = Outcome[pipelinedef.State]

// ConfigOutcome is the tenant's configuration after a command.
type ConfigOutcome = Outcome[pipelinecfg.State]

// onPipeline runs a decision on pipeline id. The repository's initial state has no id; the
// decision sees the state with its id, so the built-in default pipeline is recognised before
// its first event.
func (a *App) onPipeline(ctx context.Context, tenant, id, name string, w Write, decide func(pipelinedef.State, time.Time) ([]pipelinedef.Event, error)) (PipelineOutcome, error) {
	if !pipelinedef.ValidSlug(id) {
		return PipelineOutcome{}, apperr.InvalidFields("invalid pipeline id",
			apperr.FieldViolation{Field: "pipeline_id", Description: "must match [a-z0-9_-]{1,64}"})
	}
	key := tenant + "/" + id
	a.pipelines.forget(key)
	defer a.pipelines.forget(key)
	out, err := execute(ctx, a, a.d.Pipelines, a.d.Pipelines.Ref(tenant, id), eventstore.Command{Name: name}, w,
		func(s pipelinedef.State, now time.Time) ([]pipelinedef.Event, error) {
			return decide(withID(s, id), now)
		})
	out.State = withID(out.State, id)
	return out, err
}

func withID(s pipelinedef.State, id string) pipelinedef.State {
	if s.ID == "" {
		s.ID = id
	}
	return s
}

// CreatePipeline defines a new pipeline.
func (a *App) CreatePipeline(ctx context.Context, tenant string, p pipelinedef.Pipeline, w Write) (PipelineOutcome, error) {
	return a.onPipeline(ctx, tenant, p.ID, "CreatePipeline", w, func(s pipelinedef.State, now time.Time) ([]pipelinedef.Event, error) {
		return pipelinedef.Define(s, p, now)
	})
}

// UpdatePipeline replaces a pipeline's name and stages (a revision; history is untouched).
func (a *App) UpdatePipeline(ctx context.Context, tenant string, p pipelinedef.Pipeline, w Write) (PipelineOutcome, error) {
	return a.onPipeline(ctx, tenant, p.ID, "UpdatePipeline", w, func(s pipelinedef.State, now time.Time) ([]pipelinedef.Event, error) {
		return pipelinedef.Revise(s, p, now)
	})
}

// ArchivePipeline stops a pipeline from taking new opportunities.
func (a *App) ArchivePipeline(ctx context.Context, tenant, id string, w Write) (PipelineOutcome, error) {
	return a.onPipeline(ctx, tenant, id, "ArchivePipeline", w, pipelinedef.Archive)
}

// GetPipeline returns a pipeline from the log (pipelines are few and small; the repository
// caches them), so a pipeline is readable right after it is written.
func (a *App) GetPipeline(ctx context.Context, tenant, id string) (pipelinedef.State, error) {
	if !pipelinedef.ValidSlug(id) {
		return pipelinedef.State{}, apperr.InvalidFields("invalid pipeline id",
			apperr.FieldViolation{Field: "pipeline_id", Description: "must match [a-z0-9_-]{1,64}"})
	}
	agg, err := a.d.Pipelines.Load(ctx, a.d.Pipelines.Ref(tenant, id))
	if err != nil {
		return pipelinedef.State{}, err
	}
	s := withID(agg.State, id)
	if _, ok := s.Effective(); !ok {
		return pipelinedef.State{}, &apperr.Error{Kind: apperr.NotFound, Reason: pipelinedef.ReasonNotFound, Message: "pipeline " + id + " not found"}
	}
	return s, nil
}

// pipeline returns the effective definition of pipeline id, for decisions (cached briefly).
func (a *App) pipeline(ctx context.Context, tenant, id string) (pipelinedef.Pipeline, error) {
	key := tenant + "/" + id
	s, ok := a.pipelines.get(key)
	if !ok {
		var err error
		if s, err = a.GetPipeline(ctx, tenant, id); err != nil {
			return pipelinedef.Pipeline{}, err
		}
		a.pipelines.put(key, s)
	}
	p, _ := s.Effective()
	return p, nil
}

// ListPipelines lists the tenant's pipelines from the read model. The built-in default pipeline
// is listed first while it was never edited (it has no events, so the read model does not know
// it).
func (a *App) ListPipelines(ctx context.Context, tenant string, includeArchived bool, pageSize int, pageToken string, r Read) ([]pipelinedef.State, string, error) {
	if err := a.waitRead(ctx, r); err != nil {
		return nil, "", err
	}
	list, next, err := a.d.Views.ListPipelines(ctx, tenant, includeArchived, pageSize, pageToken)
	if err != nil || pageToken != "" {
		return list, next, err
	}
	for _, s := range list {
		if s.ID == pipelinedef.DefaultID {
			return list, next, nil
		}
	}
	def, err := a.GetPipeline(ctx, tenant, pipelinedef.DefaultID)
	if err != nil {
		return nil, "", err
	}
	return append([]pipelinedef.State{def}, list...), next, nil
}

func (a *App) configRef(tenant string) eventstore.Ref { return a.d.Configs.Ref(tenant, tenant) }

// GetConfig returns the tenant's pipeline configuration (the defaults until it is changed).
func (a *App) GetConfig(ctx context.Context, tenant string) (pipelinecfg.State, error) {
	agg, err := a.d.Configs.Load(ctx, a.configRef(tenant))
	return agg.State, err
}

// UpdateConfig replaces the tenant's pipeline configuration.
func (a *App) UpdateConfig(ctx context.Context, tenant string, c pipelinecfg.Config, w Write) (ConfigOutcome, error) {
	a.configs.forget(tenant)
	defer a.configs.forget(tenant)
	return execute(ctx, a, a.d.Configs, a.configRef(tenant), eventstore.Command{Name: "UpdatePipelineConfig"}, w,
		func(s pipelinecfg.State, now time.Time) ([]pipelinecfg.Event, error) {
			return pipelinecfg.Update(s, c, now)
		})
}

// policy returns what opportunity decisions need of the tenant's configuration (cached briefly).
func (a *App) policy(ctx context.Context, tenant string) (opportunity.Policy, error) {
	s, ok := a.configs.get(tenant)
	if !ok {
		var err error
		if s, err = a.GetConfig(ctx, tenant); err != nil {
			return opportunity.Policy{}, err
		}
		a.configs.put(tenant, s)
	}
	return s.Config.Policy(), nil
}
