// Package service builds the pipeline application from its configuration: the event store on
// JetStream, the idempotency bucket, the repositories, the read model and the projector that
// keeps it current. main and the end-to-end tests use it alike.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/evcrm/evcrm/libs/uuid7"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/snapshotstore"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/pipelineview"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/readmodel"
	"github.com/evcrm/evcrm/services/pipeline/internal/app"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinecfg"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// Options are what the service needs beyond a NATS connection.
type Options struct {
	// DataDir holds the read model (pipeline.db) and the snapshots (snapshots.db); "" keeps them in
	// a temporary directory.
	DataDir string
	// Replicas of the streams and buckets (1 single node, 3 clusters).
	Replicas int
	// ProjectorName names the read model's consumer; replicas each build their own read model.
	ProjectorName string
	Logger        *slog.Logger
	// Metrics, when set, receives the projector's metrics.
	Metrics *projection.Metrics
	// Now is the application's clock (tests move it); time.Now when nil.
	Now func() time.Time
}

// Service is the built application and the worker that keeps its read model current.
type Service struct {
	App       *app.App
	Projector *projection.Runner
	View      *pipelineview.View
	store     *readmodel.Store
	snapshots *snapshotstore.Store
}

// New builds the service on nc.
func New(ctx context.Context, nc *nats.Conn, o Options) (*Service, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ProjectorName == "" {
		o.ProjectorName = "pipeline-view"
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	if err := eventstore.EnsureStreams(ctx, js, eventstore.StreamOptions{Replicas: o.Replicas}, eventstore.PipelineStream); err != nil {
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
	// Opportunities are worked on for months among everyone else's events: their states are
	// kept in snapshots.db, so a load missing the in-memory cache is a local read instead of a
	// read of the stream's blocks (docs/events.md, "Snapshots").
	snaps, err := snapshotstore.Open(ctx, dataPath(o, "snapshots.db"), snapshotstore.Options{})
	if err != nil {
		return nil, fmt.Errorf("pipeline: snapshots: %w", err)
	}
	built := false
	defer func() {
		if !built {
			_ = snaps.Close()
		}
	}()
	ro := eventstore.RepositoryOptions{Idempotency: idem}
	// Folded with ApplyAll: an opportunity's state grows with its stage history, and applying
	// a long history one event at a time copies it once per event.
	opps, err := eventstore.NewRepositoryFold(es, opportunity.AggregateType, protomap.OpportunityCodec{},
		func() opportunity.Opportunity { return opportunity.Opportunity{} }, opportunity.ApplyAll,
		eventstore.RepositoryOptions{Idempotency: idem, Snapshots: snaps})
	if err != nil {
		return nil, err
	}
	small := eventstore.RepositoryOptions{Idempotency: idem, CacheSize: 1000}
	pipes, err := eventstore.NewRepository(es, pipelinedef.AggregateType, protomap.PipelineCodec{},
		func() pipelinedef.State { return pipelinedef.State{} }, pipelinedef.Apply, small)
	if err != nil {
		return nil, err
	}
	configs, err := eventstore.NewRepository(es, pipelinecfg.AggregateType, protomap.ConfigCodec{}, pipelinecfg.New, pipelinecfg.Apply, small)
	if err != nil {
		return nil, err
	}
	contracts, err := eventstore.NewRepository(es, contract.AggregateType, protomap.ContractCodec{},
		func() contract.Contract { return contract.Contract{} }, contract.Apply, ro)
	if err != nil {
		return nil, err
	}
	store, err := readmodel.Open(ctx, dataPath(o, "pipeline.db"), sqlitemodel.Options{})
	if err != nil {
		return nil, fmt.Errorf("pipeline: read model: %w", err)
	}
	view := pipelineview.New(store, pipelineview.Codecs{
		Opportunity: protomap.OpportunityCodec{}, Pipeline: protomap.PipelineCodec{}, Contract: protomap.ContractCodec{}})
	view.Cover(projection.NewCoverage(js, pipelineview.Stream, pipelineview.Subjects))
	runner, err := projection.NewOrdered(js, projection.Config{
		Name:               o.ProjectorName,
		Sources:            []projection.Source{{Stream: pipelineview.Stream, FilterSubjects: pipelineview.Subjects}},
		BatchSize:          500,
		BatchWait:          20 * time.Millisecond,
		DeadLetterReplicas: o.Replicas,
		Logger:             o.Logger,
		Metrics:            o.Metrics,
	}, view)
	if err != nil {
		return nil, errors.Join(err, store.Close())
	}
	a := app.New(app.Deps{
		Opportunities: opps, Pipelines: pipes, Configs: configs, Contracts: contracts, Views: view, Now: o.Now,
		NewID: uuid7.New,
	})
	built = true
	return &Service{App: a, Projector: runner, View: view, store: store, snapshots: snaps}, nil
}

// dataPath is file in the data directory, "" (a temporary file) without one.
func dataPath(o Options, file string) string {
	if o.DataDir == "" {
		return ""
	}
	return filepath.Join(o.DataDir, file)
}

// Close releases the read model and the snapshots. Stop the projector (cancel its Run) first.
func (s *Service) Close() error { return errors.Join(s.store.Close(), s.snapshots.Close()) }
