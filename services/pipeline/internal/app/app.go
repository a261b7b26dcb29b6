// Package app holds the pipeline service's command and query handlers: it loads aggregates (the
// opportunity, the pipeline it is in, the tenant's configuration, the contract), runs the
// domain's pure decisions and appends their events, and answers queries from the read model.
package app

import (
	"context"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/readmodel"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/forecast"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/input"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinecfg"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// Views answers queries from the read model.
type Views interface {
	// WaitFor returns once the read model has applied stream sequence seq.
	WaitFor(ctx context.Context, seq uint64) error
	GetOpportunity(ctx context.Context, tenant, id string) (opportunity.Opportunity, error)
	ListOpportunities(ctx context.Context, tenant string, f OpportunityFilter) ([]opportunity.Opportunity, string, error)
	ListPipelines(ctx context.Context, tenant string, includeArchived bool, pageSize int, pageToken string) ([]pipelinedef.State, string, error)
	GetContract(ctx context.Context, tenant, id string) (contract.Contract, error)
	ListContracts(ctx context.Context, tenant string, f ContractFilter) ([]contract.Contract, string, error)
	Forecast(ctx context.Context, tenant string, q ForecastQuery) (forecast.Forecast, error)
}

// The read model's queries.
type (
	OpportunityFilter = readmodel.OpportunityFilter
	ContractFilter    = readmodel.ContractFilter
	ForecastQuery     = readmodel.ForecastQuery
)

// Deps are the adapters the application runs on.
type Deps struct {
	Opportunities *eventstore.Repository[opportunity.Opportunity, opportunity.Event]
	Pipelines     *eventstore.Repository[pipelinedef.State, pipelinedef.Event]
	Configs       *eventstore.Repository[pipelinecfg.State, pipelinecfg.Event]
	Contracts     *eventstore.Repository[contract.Contract, contract.Event]
	Views         Views
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// NewID returns a new record id (a UUIDv7).
	NewID func() string
	// SettingsTTL is how long a replica may decide with its cached copy of a pipeline or of the
	// tenant's configuration before it reads the log again (changes made through this replica
	// are seen at once). Default 2s.
	SettingsTTL time.Duration
}

// App is the pipeline application.
type App struct {
	d         Deps
	pipelines *settingsCache[pipelinedef.State]
	configs   *settingsCache[pipelinecfg.State]
}

// New returns the application.
func New(d Deps) *App {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.SettingsTTL <= 0 {
		d.SettingsTTL = 2 * time.Second
	}
	return &App{d: d, pipelines: newSettingsCache[pipelinedef.State](d.SettingsTTL), configs: newSettingsCache[pipelinecfg.State](d.SettingsTTL)}
}

// Write carries what every command accepts besides its own fields.
type Write struct {
	IdempotencyKey string
	// ExpectedVersion, when set, makes the command fail with a conflict unless the record is at
	// this version.
	ExpectedVersion *uint64
}

// Read carries what every read-model query accepts.
type Read struct {
	// MinSequence: wait until the read model has applied this stream sequence.
	MinSequence uint64
}

// Outcome is a record after a command and where the command left it.
type Outcome[S any] struct {
	State  S
	Result eventstore.Result
}

// now is the request's business clock: the backfill time of a backfilled request (reqctx), the
// injected clock otherwise. Cache ages, TTLs and timeouts use the wall clock instead.
func (a *App) now(ctx context.Context) time.Time { return reqctx.Now(ctx, a.d.Now) }

func (a *App) waitRead(ctx context.Context, r Read) error {
	if r.MinSequence == 0 {
		return nil
	}
	return a.d.Views.WaitFor(ctx, r.MinSequence)
}

// execute runs decide on the aggregate at ref with the command's write options and returns the
// aggregate's state after it (folded, or loaded for an idempotent replay).
func execute[S, E any](ctx context.Context, a *App, repo *eventstore.Repository[S, E], ref eventstore.Ref, cmd eventstore.Command, w Write,
	decide func(S, time.Time) ([]E, error)) (Outcome[S], error) {
	cmd.IdempotencyKey, cmd.ExpectedVersion = w.IdempotencyKey, w.ExpectedVersion
	s, res, err := repo.Run(ctx, ref, cmd, func(s S) ([]E, error) { return decide(s, a.now(ctx)) })
	return Outcome[S]{State: s, Result: res}, err
}

func invalidID(field string) error {
	return apperr.InvalidFields("invalid "+field, apperr.FieldViolation{Field: field, Description: input.IDMessage})
}
