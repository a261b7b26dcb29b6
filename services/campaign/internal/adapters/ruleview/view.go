// Package ruleview keeps the rules read model (rulemodel) current from the CRM_CAMPAIGN stream
// (rule and rulerun aggregates) and answers the rule queries and the engine's "which rules
// trigger on this event" from it, the latter through a cache that every applied rule change
// invalidates.
package ruleview

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/rulemodel"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
)

// Stream is the stream the view is built from.
const Stream = "CRM_CAMPAIGN"

// Subjects are the events the view follows: every rule event and the runs.
var Subjects = []string{"crm.*.rule.>", "crm.*.rulerun.*.RuleRunRecorded"}

// View is the projector (a projection.CheckpointHandler) and the query side.
type View struct {
	projection.ReadWaiter
	store *rulemodel.Store

	// gen counts applied batches that changed rules; cached answers of an older generation
	// are stale.
	gen   atomic.Uint64
	mu    sync.Mutex
	cache map[cacheKey]cached
}

type cacheKey struct{ tenant, eventType string }

type cached struct {
	gen   uint64
	rules []rule.Rule
}

// New returns the view over store.
func New(store *rulemodel.Store) *View {
	return &View{store: store, ReadWaiter: projection.NewReadWaiter(store, Stream), cache: map[cacheKey]cached{}}
}

// Checkpoint is the last applied sequence per stream.
func (v *View) Checkpoint(ctx context.Context) (map[string]uint64, error) {
	return v.store.Checkpoint(ctx)
}

// Applied is the view's checkpoint of the stream as this process knows it.
func (v *View) Applied() uint64 { return v.store.Applied(Stream) }

type key struct{ tenant, id string }

// Handle folds the batch's rule events with the domain's Apply and stores them with the
// batch's runs and last sequence in one transaction.
func (v *View) Handle(ctx context.Context, events []projection.Event) error {
	states := map[key]*rule.Rule{}
	var order []key
	var b rulemodel.Batch
	var poison []error
	for _, e := range events {
		env := e.Envelope
		k := key{env.GetTenantId(), env.GetAggregateId()}
		rec := eventstore.Recorded{Envelope: env, Subject: e.Subject, Stream: e.Stream, Sequence: e.Sequence, Stored: e.Stored}
		switch env.GetAggregateType() {
		case rule.AggregateType:
			s, ok := states[k]
			if !ok {
				s = &rule.Rule{ID: k.id}
				if env.GetAggregateVersion() != 1 {
					cur, err := v.store.GetRule(ctx, k.tenant, k.id)
					if err != nil && apperr.KindOf(err) != apperr.NotFound {
						return err
					}
					if err == nil {
						*s = cur
					}
				}
				states[k] = s
				order = append(order, k)
			}
			if env.GetAggregateVersion() <= s.Version {
				continue // applied before (a replayed batch)
			}
			ev, err := protomap.RuleCodec{}.Decode(rec)
			if err != nil {
				poison = append(poison, projection.Poison(e, "decode rule event: "+err.Error()))
				continue
			}
			*s = rule.Apply(*s, ev)
			s.ID = k.id
		case rule.RunAggregateType:
			run, ok, err := protomap.DecodeRun(rec)
			if err != nil {
				poison = append(poison, projection.Poison(e, "decode rule run: "+err.Error()))
				continue
			}
			if ok {
				b.Runs = append(b.Runs, rulemodel.RunRow{Tenant: k.tenant, RunID: k.id, Seq: e.Sequence, Run: run})
			}
		}
	}
	for _, k := range order {
		b.Rules = append(b.Rules, *states[k])
		b.Tenants = append(b.Tenants, k.tenant)
	}
	if err := v.store.Apply(ctx, events[0].Stream, events[len(events)-1].Sequence, b); err != nil {
		return err
	}
	if len(order) > 0 {
		v.gen.Add(1)
	}
	return errors.Join(poison...)
}

// GetRule returns a rule that exists (NotFound for a deleted one).
func (v *View) GetRule(ctx context.Context, tenant, id string) (rule.Rule, error) {
	r, err := v.store.GetRule(ctx, tenant, id)
	if err != nil {
		return rule.Rule{}, err
	}
	if !r.Exists() {
		return rule.Rule{}, rule.ErrNotFound(id)
	}
	return r, nil
}

// ListRules lists the tenant's rules.
func (v *View) ListRules(ctx context.Context, tenant string, enabledOnly bool, size int, token string) ([]rule.Rule, string, error) {
	return v.store.ListRules(ctx, tenant, enabledOnly, size, token)
}

// ListRuns lists the run log, newest first.
func (v *View) ListRuns(ctx context.Context, tenant string, f rulemodel.RunFilter) ([]rule.Run, string, error) {
	return v.store.ListRuns(ctx, tenant, f)
}

// TriggeredBy returns the tenant's enabled rules on eventType, from the cache when no rule
// changed since it was filled.
func (v *View) TriggeredBy(ctx context.Context, tenant, eventType string) ([]rule.Rule, error) {
	k := cacheKey{tenant, eventType}
	gen := v.gen.Load()
	v.mu.Lock()
	c, ok := v.cache[k]
	v.mu.Unlock()
	if ok && c.gen == gen {
		return c.rules, nil
	}
	rules, err := v.store.TriggeredBy(ctx, tenant, eventType)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	if len(v.cache) > 100_000 {
		clear(v.cache) // bounded: tenants × event types
	}
	v.cache[k] = cached{gen: gen, rules: rules}
	v.mu.Unlock()
	return rules, nil
}
