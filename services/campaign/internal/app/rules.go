package app

import (
	"context"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
)

// CreateRule creates a rule; the definition's Enabled says whether it starts on. Bad input is
// InvalidArgument with paths relative to the rule ("trigger.event_type", "condition").
func (a *App) CreateRule(ctx context.Context, tenant string, d rule.Definition, w Write) (rule.Rule, eventstore.Result, error) {
	id := a.d.NewID()
	cmd := eventstore.Command{Name: "CreateRule", IdempotencyKey: w.IdempotencyKey, New: true}
	return a.runRule(ctx, tenant, id, cmd, func(s rule.Rule) ([]rule.Event, error) {
		return rule.Create(s, id, d, a.d.Rules.Catalog, a.now(ctx))
	})
}

// GetRule returns one rule from the read model.
func (a *App) GetRule(ctx context.Context, tenant, id string, r Read) (rule.Rule, error) {
	if !rule.ValidID(id) {
		return rule.Rule{}, apperr.InvalidFields("invalid rule id", apperr.FieldViolation{Field: "rule_id", Description: "required: 1 to 64 characters of [A-Za-z0-9_-]"})
	}
	if err := waitRead(ctx, a.d.Rules.Views, r); err != nil {
		return rule.Rule{}, err
	}
	return a.d.Rules.Views.GetRule(ctx, tenant, id)
}

// UpdateRule replaces a rule's definition (its enabled state stays).
func (a *App) UpdateRule(ctx context.Context, tenant, id string, d rule.Definition, w Write) (rule.Rule, eventstore.Result, error) {
	if err := checkRuleID(id); err != nil {
		return rule.Rule{}, eventstore.Result{}, err
	}
	cmd := eventstore.Command{Name: "UpdateRule", IdempotencyKey: w.IdempotencyKey, ExpectedVersion: w.ExpectedVersion}
	return a.runRule(ctx, tenant, id, cmd, func(s rule.Rule) ([]rule.Event, error) {
		return rule.Update(s, d, a.d.Rules.Catalog, a.now(ctx))
	})
}

// SetRuleEnabled turns a rule on or off.
func (a *App) SetRuleEnabled(ctx context.Context, tenant, id string, enabled bool, w Write) (rule.Rule, eventstore.Result, error) {
	if err := checkRuleID(id); err != nil {
		return rule.Rule{}, eventstore.Result{}, err
	}
	cmd := eventstore.Command{Name: "SetRuleEnabled", IdempotencyKey: w.IdempotencyKey, ExpectedVersion: w.ExpectedVersion}
	return a.runRule(ctx, tenant, id, cmd, func(s rule.Rule) ([]rule.Event, error) {
		return rule.SetEnabled(s, enabled, a.now(ctx))
	})
}

// DeleteRule deletes a rule.
func (a *App) DeleteRule(ctx context.Context, tenant, id string, w Write) (eventstore.Result, error) {
	if err := checkRuleID(id); err != nil {
		return eventstore.Result{}, err
	}
	cmd := eventstore.Command{Name: "DeleteRule", IdempotencyKey: w.IdempotencyKey, ExpectedVersion: w.ExpectedVersion}
	_, res, err := a.runRule(ctx, tenant, id, cmd, func(s rule.Rule) ([]rule.Event, error) {
		return rule.Delete(s, a.now(ctx))
	})
	return res, err
}

// ListRules lists the tenant's rules.
func (a *App) ListRules(ctx context.Context, tenant string, enabledOnly bool, size int, token string, r Read) ([]rule.Rule, string, error) {
	if err := waitRead(ctx, a.d.Rules.Views, r); err != nil {
		return nil, "", err
	}
	return a.d.Rules.Views.ListRules(ctx, tenant, enabledOnly, size, token)
}

// ListRuleRuns is the run log, newest first.
func (a *App) ListRuleRuns(ctx context.Context, tenant string, f RunFilter, r Read) ([]rule.Run, string, error) {
	if f.RuleID != "" {
		if err := checkRuleID(f.RuleID); err != nil {
			return nil, "", err
		}
	}
	if err := waitRead(ctx, a.d.Rules.Views, r); err != nil {
		return nil, "", err
	}
	return a.d.Rules.Views.ListRuns(ctx, tenant, f)
}

func checkRuleID(id string) error {
	if !rule.ValidID(id) {
		return apperr.InvalidFields("invalid rule id", apperr.FieldViolation{Field: "rule_id", Description: "required: 1 to 64 characters of [A-Za-z0-9_-]"})
	}
	return nil
}

func (a *App) runRule(ctx context.Context, tenant, id string, cmd eventstore.Command, decide func(rule.Rule) ([]rule.Event, error)) (rule.Rule, eventstore.Result, error) {
	repo := a.d.Rules.Rules
	s, res, err := repo.Run(ctx, repo.Ref(tenant, id), cmd, func(s rule.Rule) ([]rule.Event, error) {
		if s.ID == "" {
			s.ID = id
		}
		return decide(s)
	})
	if err != nil {
		return rule.Rule{}, eventstore.Result{}, err
	}
	s.ID = id
	return s, res, nil
}

// Dry-run bounds.
const (
	DefaultLookback  = 7 * 24 * time.Hour
	MaxLookback      = 90 * 24 * time.Hour
	DefaultMaxEvents = 10_000
	MaxDryRunEvents  = 100_000
	MaxDryRunRuns    = 1000
)

// DryRun is the input of DryRunRule: a saved rule (RuleID) or an unsaved definition.
type DryRun struct {
	RuleID     string
	Definition *rule.Definition
	Lookback   time.Duration
	MaxEvents  int
}

// DryRunRule evaluates a rule against the tenant's recent events without acting or appending:
// which events it would have fired for (and which it would have skipped), newest first. The
// condition is evaluated on the record as it is now, the best a dry run can know.
func (a *App) DryRunRule(ctx context.Context, tenant string, in DryRun) (examined int64, runs []rule.Run, err error) {
	var v apperr.Violations
	if in.Lookback == 0 {
		in.Lookback = DefaultLookback
	}
	if in.Lookback < 0 || in.Lookback > MaxLookback {
		v.Add("lookback", "between 0 and 90 days")
	}
	if in.MaxEvents == 0 {
		in.MaxEvents = DefaultMaxEvents
	}
	if in.MaxEvents < 0 || in.MaxEvents > MaxDryRunEvents {
		v.Add("max_events", "between 0 and %d", MaxDryRunEvents)
	}
	if (in.RuleID == "") == (in.Definition == nil) {
		v.Add("rule_id", "set rule_id or rule, not both")
	}
	if err := v.Err("invalid dry run"); err != nil {
		return 0, nil, err
	}
	var r rule.Rule
	if in.RuleID != "" {
		if r, err = a.GetRule(ctx, tenant, in.RuleID, Read{}); err != nil {
			return 0, nil, err
		}
	} else {
		d := *in.Definition
		if err := rule.Validate(d, a.d.Rules.Catalog); err != nil {
			return 0, nil, apperr.RenameFields(err, func(f string) string { return "rule." + f })
		}
		r = rule.Rule{ID: "", Version: 0, Name: d.Name, EventType: d.EventType, Condition: d.Condition, Actions: d.Actions}
	}
	cond, err := rule.Compile(r.Condition, a.d.Rules.Catalog[r.EventType])
	if err != nil {
		// A saved rule whose fields were removed from the protos since.
		return 0, nil, apperr.InvalidFields("the rule's condition no longer compiles", apperr.FieldViolation{Field: "rule.condition", Description: err.Error()})
	}
	since := a.now(ctx).Add(-in.Lookback)
	var recErr error
	err = a.d.Rules.Recent.Read(ctx, tenant, r.EventType, since, in.MaxEvents, func(ev RuleEvent) bool {
		examined++
		// A record that does not exist is empty, as the engine sees it; one that cannot be read
		// (leads down) fails the dry run rather than drop the event from the answer.
		rec, err := a.ruleRecord(ctx, ev)
		if err != nil {
			recErr = err
			return false
		}
		d := rule.Evaluate(r, cond, rule.Values{Event: ev.Payload, Record: rec.Values}, false)
		run := rule.Run{RuleID: r.ID, RuleVersion: r.Version, EventID: ev.EventID, EventType: ev.EventType,
			RecordID: rec.ID, Outcome: d.Outcome, At: ev.At}
		for _, act := range d.Actions {
			run.Actions = append(run.Actions, rule.Describe(act)+": would run")
		}
		runs = append(runs, run)
		return true
	})
	if err == nil {
		err = recErr
	}
	if err != nil {
		return 0, nil, err
	}
	// Newest first, at most MaxDryRunRuns.
	for i, j := 0, len(runs)-1; i < j; i, j = i+1, j-1 {
		runs[i], runs[j] = runs[j], runs[i]
	}
	if len(runs) > MaxDryRunRuns {
		runs = runs[:MaxDryRunRuns]
	}
	return examined, runs, nil
}
