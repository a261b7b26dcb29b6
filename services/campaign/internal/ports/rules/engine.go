// Package rules is the automation rule engine's port: a durable consumer (libs/projection
// durable runner, shared by every replica of the service) over CRM_LEADS, CRM_PIPELINE and
// CRM_CAMPAIGN that hands each event to the application's RunRules.
//
// Before each batch the engine waits until the rules read model has applied every rule change
// already in the log, so a rule saved before an event is processed applies to it. An event
// whose envelope does not decode is poison (dead-lettered); a failure that may pass (leads
// service down) fails the batch, which is redelivered after a backoff, and the idempotency of
// every action and of the run record makes the second attempt change nothing that the first
// one did.
package rules

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/ruleevents"
	"github.com/evcrm/evcrm/services/campaign/internal/app"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
)

// Name is the engine's durable consumer on each stream.
const Name = "campaign-rules"

// Sources are the events rules trigger on: every event of the three streams except the rules'
// own (rule and rulerun aggregates).
var Sources = []projection.Source{
	{Stream: eventstore.LeadsStream.Name},
	{Stream: eventstore.PipelineStream.Name},
	{Stream: eventstore.CampaignStream.Name, FilterSubjects: []string{"crm.*.campaign.>", "crm.*.member.>", "crm.*.segment.>", "crm.*.enrollment.>"}},
}

// Runner is what the engine calls; *app.App implements it.
type Runner interface {
	HasRules(ctx context.Context, tenant, eventType string) (bool, error)
	RunRules(ctx context.Context, ev app.RuleEvent) error
}

// Engine is a projection.Handler.
type Engine struct {
	app Runner
	// current waits until the rules read model has applied the rule changes in the log.
	current func(ctx context.Context) error
	log     *slog.Logger
}

// New returns the engine. current may be nil (tests that control timing themselves).
func New(a Runner, current func(ctx context.Context) error, log *slog.Logger) *Engine {
	if log == nil {
		log = slog.Default()
	}
	return &Engine{app: a, current: current, log: log}
}

// CatchUp returns the wait for the rules read model: the campaign stream's last sequence now,
// then the view's wait for the rule events up to it.
func CatchUp(js jetstream.JetStream, cp projection.Checkpoints) func(ctx context.Context) error {
	cov := projection.NewCoverage(js, eventstore.CampaignStream.Name, []string{"crm.*.rule.>"})
	return func(ctx context.Context) error {
		st, err := js.Stream(ctx, eventstore.CampaignStream.Name)
		if err != nil {
			return err
		}
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return cov.WaitFor(wctx, cp, info.State.LastSeq)
	}
}

// Handle runs the rules of each event, in order.
func (e *Engine) Handle(ctx context.Context, events []projection.Event) error {
	if e.current != nil {
		if err := e.current(ctx); err != nil {
			return err
		}
	}
	for _, ev := range events {
		if err := e.handle(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) handle(ctx context.Context, pe projection.Event) error {
	env := pe.Envelope
	switch env.GetAggregateType() {
	case rule.AggregateType, rule.RunAggregateType:
		return nil
	}
	typ := eventstore.ShortType(env.GetEventType())
	has, err := e.app.HasRules(ctx, env.GetTenantId(), typ)
	if err != nil || !has {
		return err
	}
	ev, err := ruleevents.FromEnvelope(env)
	if err != nil {
		return projection.Poison(pe, "decode event: "+err.Error())
	}
	ev.At = pe.Stored
	if pe.Stream == eventstore.LeadsStream.Name {
		ev.LeadsSequence = pe.Sequence
	}
	err = e.app.RunRules(ctx, ev)
	if apperr.KindOf(err) == apperr.Invalid {
		// Nothing about this event will change on a retry.
		return projection.Poison(pe, "rules refused the event: "+err.Error())
	}
	return err
}
