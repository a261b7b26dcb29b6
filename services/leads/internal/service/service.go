// Package service builds the leads application from its configuration: the event store on
// JetStream, the idempotency and uniqueness buckets, the repositories, the read model and the
// projector that keeps it current. main and the end-to-end tests use it alike.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/evcrm/evcrm/libs/uuid7"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/platform/lifecycle"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/snapshotstore"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/accountmodel"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/activitymodel"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/leadview"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/pipelineclient"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/readmodel"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/roundrobin"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/uniqueness"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/tenantcfg"
)

// Options are what the service needs beyond a NATS connection.
type Options struct {
	// DataDir holds the read model (leads.db); "" keeps it in a temporary directory.
	DataDir string
	// Replicas of the streams and buckets (1 single node, 3 clusters).
	Replicas int
	// ProjectorName names the read model's consumer; replicas each build their own read model.
	ProjectorName string
	Logger        *slog.Logger
	// Metrics, when set, receives the projector's metrics.
	Metrics *projection.Metrics
	// PipelineAddr is the pipeline service's gRPC address (host:port or a gRPC target), which
	// lead conversion calls to open opportunities; "" leaves it unconfigured (a conversion that
	// asks for an opportunity is then Unavailable).
	PipelineAddr string
	// AfterConversionStep is app.Deps.AfterConversionStep (tests only).
	AfterConversionStep func(step string) error
	// AllowBackfill is the service's -allow-backfill: the opportunity-win reaction then dates
	// the LeadOpportunityWon it appends at the win's occurred_at (reactions.WinOptions).
	AllowBackfill bool
	// ReadModelCacheKiB is the leads read model writer's page cache (readmodel.Options.CacheKiB;
	// 0 keeps its default).
	ReadModelCacheKiB int
}

// Service is the built application and the worker that keeps its read model current.
type Service struct {
	App       *app.App
	Projector *projection.Runner
	View      *leadview.View
	store     *readmodel.Store
	// AccountsProjector keeps the accounts and contacts read model (accounts.db) current; run
	// it alongside Projector.
	AccountsProjector *projection.Runner
	accountStore      *accountmodel.Store
	// ActivitiesProjector keeps the activities, tasks and timeline read model (activities.db)
	// current; Reactions is the durable consumer that raises leads' engagement for logged
	// activities. Run both alongside Projector.
	ActivitiesProjector *projection.Runner
	Reactions           *projection.Runner
	activityStore       *activitymodel.Store
	// CampaignReactions is the durable consumer of the campaign service's member responses:
	// engagement on leads, unsubscribes as email opt-outs. Run it alongside Projector.
	CampaignReactions *projection.Runner
	// OpportunityReactions is the durable consumer of the pipeline service's OpportunityWon:
	// LeadOpportunityWon on the lead a won deal came from. Run it alongside Projector.
	OpportunityReactions *projection.Runner
	pipeline             *pipelineclient.Client
	snapshots            *snapshotstore.Store
}

// New builds the service on nc.
func New(ctx context.Context, nc *nats.Conn, o Options) (*Service, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ProjectorName == "" {
		o.ProjectorName = "leads-view"
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	if err := eventstore.EnsureStreams(ctx, js, eventstore.StreamOptions{Replicas: o.Replicas}, eventstore.LeadsStream); err != nil {
		return nil, err
	}
	sealer, dataKeys, err := newSealer(ctx, js, o)
	if err != nil {
		return nil, err
	}
	es, err := eventstore.New(nc, eventstore.Options{PersonalData: sealer})
	if err != nil {
		return nil, err
	}
	idem, err := eventstore.NewIdempotency(ctx, js, eventstore.IdempotencyOptions{Replicas: o.Replicas})
	if err != nil {
		return nil, err
	}
	// Leads, accounts and contacts are loaded at random over years of history (a campaign
	// response touches a lead created long ago): their states are kept in snapshots.db so a
	// load missing the in-memory cache is a local read, not a read of the stream's blocks.
	snaps, err := snapshotstore.Open(ctx, modelPath(o, "snapshots.db"), snapshotstore.Options{})
	if err != nil {
		return nil, fmt.Errorf("leads: snapshots: %w", err)
	}
	built := false
	defer func() {
		if !built {
			_ = snaps.Close()
		}
	}()
	people := personData{sealer: sealer, forget: snapshotForgetter(snaps)}
	leads, err := eventstore.NewRepository(es, "lead", protomap.LeadCodec{}, func() lead.Lead { return lead.Lead{} }, lead.Apply,
		eventstore.RepositoryOptions{Idempotency: idem, Snapshots: snaps})
	if err != nil {
		return nil, err
	}
	configs, err := eventstore.NewRepository(es, tenantcfg.AggregateType, protomap.ConfigCodec{}, tenantcfg.New, tenantcfg.Apply,
		eventstore.RepositoryOptions{Idempotency: idem, CacheSize: 1000})
	if err != nil {
		return nil, err
	}
	keys, err := uniqueness.Open(ctx, js, uniqueness.Options{Replicas: o.Replicas})
	if err != nil {
		return nil, err
	}
	turns, err := roundrobin.Open(ctx, js, "", o.Replicas)
	if err != nil {
		return nil, err
	}
	store, err := readmodel.Open(ctx, modelPath(o, "leads.db"), readmodel.Options{CacheKiB: o.ReadModelCacheKiB})
	if err != nil {
		return nil, fmt.Errorf("leads: read model: %w", err)
	}
	view := leadview.New(store, protomap.LeadCodec{})
	view.Cover(projection.NewCoverage(js, leadview.Stream, []string{"crm.*.lead.>"}))
	runner, err := newViewRunner(js, o, o.ProjectorName, leadview.Stream, []string{"crm.*.lead.>"}, personView(people, view, store.Scrub, o.Logger))
	if err != nil {
		return nil, errors.Join(err, store.Close())
	}
	// A nil *pipelineclient.Client must not become a non-nil app.Opportunities.
	var pipeline *pipelineclient.Client
	var opportunities app.Opportunities
	if o.PipelineAddr != "" {
		if pipeline, err = pipelineclient.Dial(o.PipelineAddr); err != nil {
			return nil, errors.Join(fmt.Errorf("leads: pipeline client: %w", err), store.Close())
		}
		opportunities = pipeline
	}
	acc, err := newAccounts(ctx, js, es, idem, snaps, people, o)
	if err != nil {
		return nil, errors.Join(err, store.Close())
	}
	acts, err := newActivities(ctx, js, es, idem, o)
	if err != nil {
		return nil, errors.Join(err, store.Close(), acc.store.Close())
	}
	a := app.New(app.Deps{
		Leads: leads, Configs: configs, Keys: keys, Turns: turns, Views: view,
		Accounts: acc.accounts, Contacts: acc.contacts, AccountKeys: acc.accountKeys,
		ContactKeys: acc.contactKeys, AccountViews: acc.view, DataKeys: dataKeys,
		NewID:         uuid7.New,
		Opportunities: opportunities, AfterConversionStep: o.AfterConversionStep,
		Activity: acts.deps,
	})
	reacts, err := newReactions(js, a, o)
	if err != nil {
		return nil, errors.Join(err, store.Close(), acc.store.Close(), acts.store.Close())
	}
	campaignReacts, err := newCampaignReactions(js, a, o)
	if err != nil {
		return nil, errors.Join(err, store.Close(), acc.store.Close(), acts.store.Close())
	}
	opportunityReacts, err := newOpportunityReactions(js, a, o)
	if err != nil {
		return nil, errors.Join(err, store.Close(), acc.store.Close(), acts.store.Close())
	}
	built = true
	return &Service{App: a, Projector: runner, View: view, store: store, snapshots: snaps, pipeline: pipeline,
		AccountsProjector: acc.runner, accountStore: acc.store,
		ActivitiesProjector: acts.runner, Reactions: reacts, activityStore: acts.store,
		CampaignReactions: campaignReacts, OpportunityReactions: opportunityReacts}, nil
}

// Close releases the read model and the pipeline connection. Stop the projector (cancel its
// Run) first.
func (s *Service) Close() error {
	err := errors.Join(s.store.Close(), s.accountStore.Close(), s.activityStore.Close(), s.snapshots.Close())
	if s.pipeline != nil {
		err = errors.Join(err, s.pipeline.Close())
	}
	return err
}

// Workers are the service's background loops, to run beside the gRPC server until shutdown:
// the three read models' projectors, the activity engagement reaction, the campaign-response
// reaction and the opportunity-win reaction.
func (s *Service) Workers() []lifecycle.Worker {
	return []lifecycle.Worker{
		{Name: "lead-view-projector", Run: s.Projector.Run},
		{Name: "accounts-view-projector", Run: s.AccountsProjector.Run},
		{Name: "activities-view-projector", Run: s.ActivitiesProjector.Run},
		{Name: "activity-engagement-reaction", Run: s.Reactions.Run},
		{Name: "campaign-response-reaction", Run: s.CampaignReactions.Run},
		{Name: "opportunity-win-reaction", Run: s.OpportunityReactions.Run},
	}
}
