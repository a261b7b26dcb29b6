// Package service builds the campaign application from its configuration: the event store on
// JetStream, the idempotency bucket, the repositories, the read models with their projectors,
// the leads client and the rule engine. main and the end-to-end tests use it alike. Each part
// of the service builds its adapters in its own file (campaigns.go, segments.go, rules.go).
package service

import (
	"context"
	"errors"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/platform/lifecycle"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/uuid7"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/leadsclient"
	"github.com/evcrm/evcrm/services/campaign/internal/app"
)

// Options are what the service needs beyond a NATS connection.
type Options struct {
	// DataDir holds the read models; "" keeps them in a temporary directory.
	DataDir string
	// Replicas of the streams and buckets (1 single node, 3 clusters).
	Replicas int
	// LeadsAddr is the leads service's gRPC address (segments, suppression, rule actions).
	LeadsAddr string
	// SegmentPageSize is how many records an enrollment asks the leads service for at a time
	// (one progress event each); 500 when 0.
	SegmentPageSize int
	Logger          *slog.Logger
	// Metrics, when set, receives the projectors' metrics.
	Metrics *projection.Metrics
}

// Service is the built application and its background workers.
type Service struct {
	App     *app.App
	workers []lifecycle.Worker
	closers []func() error
	// leads is the leads service client, built by buildCampaigns (which runs first) and shared
	// by the parts that call leads (suppression, segments, rule actions).
	leads *leadsclient.Client
}

// env is what each part's builder gets.
type env struct {
	js   jetstream.JetStream
	es   *eventstore.Store
	idem *eventstore.Idempotency
	o    Options
}

// New builds the service on nc.
func New(ctx context.Context, nc *nats.Conn, o Options) (*Service, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	if err := eventstore.EnsureStreams(ctx, js, eventstore.StreamOptions{Replicas: o.Replicas}, eventstore.CampaignStream); err != nil {
		return nil, err
	}
	es, err := eventstore.New(nc, eventstore.Options{})
	if err != nil {
		return nil, err
	}
	idem, err := eventstore.NewIdempotency(ctx, js, eventstore.IdempotencyOptions{Replicas: o.Replicas})
	if err != nil {
		return nil, err
	}
	e := env{js: js, es: es, idem: idem, o: o}
	s := &Service{}
	deps := app.Deps{NewID: uuid7.New}
	// Each part adds its adapters to deps, its workers and its closers to s.
	for _, build := range []func(context.Context, env, *app.Deps, *Service) error{buildCampaigns, buildSegments, buildRules} {
		if err := build(ctx, e, &deps, s); err != nil {
			return nil, errors.Join(err, s.Close())
		}
	}
	s.App = app.New(deps)
	return s, nil
}

// Workers are the service's background loops (projectors, the rule engine), to run beside
// the gRPC server until shutdown.
func (s *Service) Workers() []lifecycle.Worker { return s.workers }

// Close releases what the parts opened (read models, clients). Stop the workers first.
func (s *Service) Close() error {
	var err error
	for i := len(s.closers) - 1; i >= 0; i-- {
		err = errors.Join(err, s.closers[i]())
	}
	return err
}
