package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/activitymodel"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/activityview"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
	"github.com/evcrm/evcrm/services/leads/internal/domain/task"
	"github.com/evcrm/evcrm/services/leads/internal/ports/reactions"
)

// activitiesPart is the activities, tasks and timeline side of the service: repositories, read
// model (activities.db) and its projector.
type activitiesPart struct {
	deps   app.ActivityDeps
	store  *activitymodel.Store
	runner *projection.Runner
}

// newActivities builds the activities side; its projector is named by besideLeads.
func newActivities(ctx context.Context, js jetstream.JetStream, es *eventstore.Store, idem *eventstore.Idempotency, o Options) (activitiesPart, error) {
	var p activitiesPart
	var err error
	opts := eventstore.RepositoryOptions{Idempotency: idem}
	if p.deps.Activities, err = eventstore.NewRepository(es, activity.AggregateType, protomap.ActivityCodec{},
		func() activity.Activity { return activity.Activity{} }, activity.Apply, opts); err != nil {
		return p, err
	}
	if p.deps.Tasks, err = eventstore.NewRepository(es, task.AggregateType, protomap.TaskCodec{},
		func() task.Task { return task.Task{} }, task.Apply, opts); err != nil {
		return p, err
	}
	p.deps.Records = es
	if p.store, err = activitymodel.Open(ctx, modelPath(o, "activities.db"), sqlitemodel.Options{}); err != nil {
		return p, fmt.Errorf("leads: activities read model: %w", err)
	}
	view := activityview.New(p.store)
	view.Cover(projection.NewCoverage(js, activityview.Stream, activityview.Subjects))
	p.deps.Views = view
	p.runner, err = newViewRunner(js, o, besideLeads("activities", o), activityview.Stream, activityview.Subjects, view)
	if err != nil {
		return p, errors.Join(err, p.store.Close())
	}
	return p, nil
}

// newReactions builds the durable consumers that react to events with commands on leads. All
// replicas share each consumer (one name), so an event is handled once across them; the
// commands' idempotency keys cover redeliveries.
func newReactions(js jetstream.JetStream, a *app.App, o Options) (*projection.Runner, error) {
	return projection.NewDurable(js, projection.Config{
		Name:               reactions.EngagementName,
		Sources:            []projection.Source{reactions.EngagementSource},
		BatchSize:          100,
		DeadLetterReplicas: o.Replicas,
		Logger:             o.Logger,
		Metrics:            o.Metrics,
	}, reactions.NewEngagement(a, o.Logger))
}
