// Package pipelineview keeps the pipeline read model (adapters/readmodel, SQLite) up to date
// from the CRM_PIPELINE stream and answers the application's queries from it. The projector
// folds each aggregate's events with the domain's own Apply, so the read model's state is the
// aggregate's state; every intermediate state of an opportunity goes to the read model with the
// time the log recorded its event (see recordedAt), which is what the as-of forecast reads.
package pipelineview

import (
	"context"
	"errors"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/readmodel"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/forecast"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// Stream is the stream the view is built from.
const Stream = "CRM_PIPELINE"

// Subjects are the aggregates the view follows (the configuration is read from the log).
var Subjects = []string{"crm.*.opportunity.>", "crm.*.pipeline.>", "crm.*.contract.>"}

// Codecs decode the events the view folds.
type Codecs struct {
	Opportunity eventstore.Codec[opportunity.Event]
	Pipeline    eventstore.Codec[pipelinedef.Event]
	Contract    eventstore.Codec[contract.Event]
}

// View is both the projector (a projection.CheckpointHandler) and the query side.
type View struct {
	projection.ReadWaiter
	store  *readmodel.Store
	codecs Codecs
}

// New returns the view over store.
func New(store *readmodel.Store, codecs Codecs) *View {
	return &View{store: store, codecs: codecs, ReadWaiter: projection.NewReadWaiter(store, Stream)}
}

// Checkpoint is the last applied sequence per stream, stored with the rows.
func (v *View) Checkpoint(ctx context.Context) (map[string]uint64, error) {
	return v.store.Checkpoint(ctx)
}

type key struct{ tenant, id string }

// batch collects the states a projector batch produces, per aggregate, in first-touch order.
type batch struct {
	opps      map[key]*readmodel.OpportunityChange
	oppOrder  []key
	pipes     map[key]*readmodel.PipelineChange
	pipeOrder []key
	cons      map[key]*readmodel.ContractChange
	conOrder  []key
}

// Handle folds a batch of events into the states of the aggregates they touch and stores them
// with the batch's last sequence in one transaction. An event whose payload does not decode is
// poison: it goes to the dead-letter stream and its aggregate's state stays as it was.
func (v *View) Handle(ctx context.Context, events []projection.Event) error {
	if len(events) == 0 {
		return nil
	}
	b := batch{opps: map[key]*readmodel.OpportunityChange{}, pipes: map[key]*readmodel.PipelineChange{}, cons: map[key]*readmodel.ContractChange{}}
	var poison []error
	for _, e := range events {
		env := e.Envelope
		k := key{env.GetTenantId(), env.GetAggregateId()}
		rec := eventstore.Recorded{Envelope: env, Subject: e.Subject, Stream: e.Stream, Sequence: e.Sequence, Stored: e.Stored}
		var err error
		switch env.GetAggregateType() {
		case opportunity.AggregateType:
			err = v.opportunity(ctx, &b, k, rec, e)
		case pipelinedef.AggregateType:
			err = v.pipeline(ctx, &b, k, rec, e)
		case contract.AggregateType:
			err = v.contract(ctx, &b, k, rec, e)
		}
		var pe *projection.PoisonError
		if errors.As(err, &pe) {
			poison = append(poison, err)
			continue
		}
		if err != nil {
			return err
		}
	}
	var out readmodel.Batch
	for _, k := range b.oppOrder {
		out.Opportunities = append(out.Opportunities, *b.opps[k])
	}
	for _, k := range b.pipeOrder {
		out.Pipelines = append(out.Pipelines, *b.pipes[k])
	}
	for _, k := range b.conOrder {
		out.Contracts = append(out.Contracts, *b.cons[k])
	}
	if err := v.store.Apply(ctx, events[0].Stream, events[len(events)-1].Sequence, out); err != nil {
		return err
	}
	return errors.Join(poison...)
}

func (v *View) opportunity(ctx context.Context, b *batch, k key, rec eventstore.Recorded, e projection.Event) error {
	c, ok := b.opps[k]
	if !ok {
		c = &readmodel.OpportunityChange{Tenant: k.tenant}
		// A first event has no row to read; a redelivered one is ignored below and by the
		// store (it keeps the newer state).
		if rec.Envelope.GetAggregateVersion() != 1 {
			o, err := v.store.GetOpportunity(ctx, k.tenant, k.id)
			if err != nil && apperr.KindOf(err) != apperr.NotFound {
				return err
			}
			c.State = o
		}
		b.opps[k] = c
		b.oppOrder = append(b.oppOrder, k)
	}
	if rec.Envelope.GetAggregateVersion() <= c.State.Version {
		return nil // already applied (a replayed batch)
	}
	ev, err := v.codecs.Opportunity.Decode(rec)
	if err != nil {
		return projection.Poison(e, "decode opportunity event: "+err.Error())
	}
	c.State = opportunity.Apply(c.State, ev)
	at := recordedAt(e)
	c.Seq, c.RecordedAt = e.Sequence, at
	c.History = append(c.History, readmodel.HistoryPoint{State: c.State, RecordedAt: at})
	return nil
}

// recordedAt is when the log learned of the event: the envelope's recorded_at, which the event
// store sets once per append, so every event of one command (MarkWon's stage change and
// OpportunityWon) has the same instant and the as-of history never shows the half-applied state
// between them; the stream's timestamp for envelopes without it.
func recordedAt(e projection.Event) time.Time {
	if t := e.Envelope.GetRecordedAt(); t.IsValid() && !t.AsTime().IsZero() {
		return t.AsTime()
	}
	return e.Stored
}

func (v *View) pipeline(ctx context.Context, b *batch, k key, rec eventstore.Recorded, e projection.Event) error {
	c, ok := b.pipes[k]
	if !ok {
		c = &readmodel.PipelineChange{Tenant: k.tenant, State: pipelinedef.New(k.id)}
		if rec.Envelope.GetAggregateVersion() != 1 {
			s, err := v.store.GetPipeline(ctx, k.tenant, k.id)
			if err != nil && apperr.KindOf(err) != apperr.NotFound {
				return err
			}
			if err == nil {
				c.State = s
			}
		}
		b.pipes[k] = c
		b.pipeOrder = append(b.pipeOrder, k)
	}
	if rec.Envelope.GetAggregateVersion() <= c.State.Version {
		return nil
	}
	ev, err := v.codecs.Pipeline.Decode(rec)
	if err != nil {
		return projection.Poison(e, "decode pipeline event: "+err.Error())
	}
	c.State = pipelinedef.Apply(c.State, ev)
	c.Seq = e.Sequence
	return nil
}

func (v *View) contract(ctx context.Context, b *batch, k key, rec eventstore.Recorded, e projection.Event) error {
	c, ok := b.cons[k]
	if !ok {
		c = &readmodel.ContractChange{Tenant: k.tenant}
		if rec.Envelope.GetAggregateVersion() != 1 {
			s, err := v.store.GetContract(ctx, k.tenant, k.id)
			if err != nil && apperr.KindOf(err) != apperr.NotFound {
				return err
			}
			c.State = s
		}
		b.cons[k] = c
		b.conOrder = append(b.conOrder, k)
	}
	if rec.Envelope.GetAggregateVersion() <= c.State.Version {
		return nil
	}
	ev, err := v.codecs.Contract.Decode(rec)
	if err != nil {
		return projection.Poison(e, "decode contract event: "+err.Error())
	}
	c.State = contract.Apply(c.State, ev)
	c.Seq = e.Sequence
	return nil
}

// GetOpportunity returns one opportunity.
func (v *View) GetOpportunity(ctx context.Context, tenant, id string) (opportunity.Opportunity, error) {
	return v.store.GetOpportunity(ctx, tenant, id)
}

// ListOpportunities lists opportunities.
func (v *View) ListOpportunities(ctx context.Context, tenant string, f readmodel.OpportunityFilter) ([]opportunity.Opportunity, string, error) {
	return v.store.ListOpportunities(ctx, tenant, f)
}

// ListPipelines lists the pipelines that have events.
func (v *View) ListPipelines(ctx context.Context, tenant string, includeArchived bool, pageSize int, pageToken string) ([]pipelinedef.State, string, error) {
	return v.store.ListPipelines(ctx, tenant, includeArchived, pageSize, pageToken)
}

// GetContract returns one contract.
func (v *View) GetContract(ctx context.Context, tenant, id string) (contract.Contract, error) {
	return v.store.GetContract(ctx, tenant, id)
}

// ListContracts lists contracts.
func (v *View) ListContracts(ctx context.Context, tenant string, f readmodel.ContractFilter) ([]contract.Contract, string, error) {
	return v.store.ListContracts(ctx, tenant, f)
}

// Forecast computes the forecast, now or as of q.AsOf.
func (v *View) Forecast(ctx context.Context, tenant string, q readmodel.ForecastQuery) (forecast.Forecast, error) {
	return v.store.Forecast(ctx, tenant, q)
}
