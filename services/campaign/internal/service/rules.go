package service

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/platform/lifecycle"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/rulechains"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/ruleevents"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/rulemodel"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/ruleview"
	"github.com/evcrm/evcrm/services/campaign/internal/app"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
	"github.com/evcrm/evcrm/services/campaign/internal/ports/rules"
)

// buildRules builds automation rules: the rule repository, the rules read model (rules.db:
// rules and the run log) with its projector, the chains bucket of cycle detection, and the
// rule engine, a durable consumer of the three CRM streams shared by every replica.
func buildRules(ctx context.Context, e env, deps *app.Deps, s *Service) error {
	// The engine consumes the other services' streams; creating them here when missing (with
	// the same configuration their owners use) lets the campaign service start first. An
	// existing one is its owner's to configure (CreateOnly).
	if err := eventstore.EnsureStreams(ctx, e.js, eventstore.StreamOptions{Replicas: e.o.Replicas, CreateOnly: true},
		eventstore.LeadsStream, eventstore.PipelineStream); err != nil {
		return fmt.Errorf("campaign: rules: streams: %w", err)
	}
	repo, err := eventstore.NewRepository(e.es, rule.AggregateType, protomap.RuleCodec{},
		func() rule.Rule { return rule.Rule{} }, rule.Apply, eventstore.RepositoryOptions{Idempotency: e.idem, CacheSize: 1000})
	if err != nil {
		return err
	}
	path := ""
	if e.o.DataDir != "" {
		path = filepath.Join(e.o.DataDir, "rules.db")
	}
	store, err := rulemodel.Open(ctx, path, sqlitemodel.Options{})
	if err != nil {
		return fmt.Errorf("campaign: rules read model: %w", err)
	}
	s.closers = append(s.closers, store.Close)
	view := ruleview.New(store)
	view.Cover(projection.NewCoverage(e.js, ruleview.Stream, ruleview.Subjects))
	projector, err := projection.NewOrdered(e.js, projection.Config{
		Name:               "campaign-rules-view",
		Sources:            []projection.Source{{Stream: ruleview.Stream, FilterSubjects: ruleview.Subjects}},
		BatchSize:          500,
		BatchWait:          5 * time.Millisecond,
		DeadLetterReplicas: e.o.Replicas,
		Logger:             e.o.Logger,
		Metrics:            e.o.Metrics,
	}, view)
	if err != nil {
		return err
	}
	chains, err := rulechains.Open(ctx, e.js, e.o.Replicas, 0)
	if err != nil {
		return err
	}
	deps.Rules = app.RuleDeps{Rules: repo, Store: e.es, Views: view, Catalog: protomap.RuleCatalog(),
		Chains: chains, Recent: ruleevents.New(e.js), Log: e.o.Logger}
	if s.leads != nil {
		deps.Rules.Leads = s.leads
	}
	// The engine gets the application once New has built it; its Runner reads it then.
	engine, err := projection.NewDurable(e.js, projection.Config{
		Name:               rules.Name,
		Sources:            rules.Sources,
		BatchSize:          100,
		MaxAckPending:      1000,
		DeadLetterReplicas: e.o.Replicas,
		Logger:             e.o.Logger,
		Metrics:            e.o.Metrics,
	}, rules.New(lateApp{s}, rules.CatchUp(e.js, store), e.o.Logger))
	if err != nil {
		return err
	}
	s.workers = append(s.workers,
		lifecycle.Worker{Name: "campaign-rules-view", Run: projector.Run},
		lifecycle.Worker{Name: rules.Name, Run: engine.Run})
	return nil
}

// lateApp is the application as the engine sees it: built after the parts, read at first use
// (workers start after New returns).
type lateApp struct{ s *Service }

func (l lateApp) HasRules(ctx context.Context, tenant, eventType string) (bool, error) {
	return l.s.App.HasRules(ctx, tenant, eventType)
}

func (l lateApp) RunRules(ctx context.Context, ev app.RuleEvent) error {
	return l.s.App.RunRules(ctx, ev)
}
