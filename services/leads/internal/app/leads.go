package app

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/platform/authz"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/uniqueness"
	"github.com/evcrm/evcrm/services/leads/internal/domain/dedupe"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

// LeadResult is a lead after a command and where the command left it.
type LeadResult struct {
	Lead   lead.Lead
	Result eventstore.Result
}

// leadDecision decides a command on an existing lead.
type leadDecision func(l lead.Lead, p lead.Policy, now time.Time) ([]lead.Event, error)

// execLead runs a command on an existing lead in the caller's row-level scope (scope.go): a
// lead that does not exist or is out of scope is NotFound, before its version is compared, and
// nothing is appended.
func (a *App) execLead(ctx context.Context, tenant, id, name string, w Write, decide leadDecision) (LeadResult, error) {
	if !lead.ValidID(id) {
		return LeadResult{}, apperr.InvalidFields("invalid lead id", apperr.FieldViolation{Field: "lead_id", Description: "must match [A-Za-z0-9_-]{1,64}"})
	}
	cfg, err := a.Config(ctx, tenant)
	if err != nil {
		return LeadResult{}, err
	}
	scope, expect := authz.ScopeOf(ctx), w
	w.ExpectedVersion = nil // checked in the decision, after the scope
	res, err := a.run(ctx, a.d.Leads.Ref(tenant, id), eventstore.Command{Name: name}, w, func(l lead.Lead, now time.Time) ([]lead.Event, error) {
		if !inScope(scope, l) {
			return nil, leadNotFound(id)
		}
		if err := eventstore.ExpectVersion(l.Version, expect.ExpectedVersion); err != nil {
			return nil, err
		}
		return decide(l, cfg.Policy(), now)
	})
	if err == nil && res.Result.Replayed && !inScope(scope, res.Lead) {
		// An idempotency key's stored outcome is not decided again: the lead it returns must
		// still be the caller's to see.
		return LeadResult{}, leadNotFound(id)
	}
	return res, err
}

// run executes a decision with the command's write options and returns the lead after it
// (folded, or loaded for an idempotent replay).
func (a *App) run(ctx context.Context, ref eventstore.Ref, cmd eventstore.Command, w Write, decide func(lead.Lead, time.Time) ([]lead.Event, error)) (LeadResult, error) {
	cmd.IdempotencyKey, cmd.ExpectedVersion = w.IdempotencyKey, w.ExpectedVersion
	l, res, err := a.d.Leads.Run(ctx, ref, cmd, func(l lead.Lead) ([]lead.Event, error) { return decide(l, a.now(ctx)) })
	if err != nil {
		return LeadResult{}, err
	}
	return LeadResult{Lead: l, Result: res}, nil
}

// assigner advances the territory's shared round-robin cursor.
func (a *App) assigner(ctx context.Context, tenant string) lead.Assigner {
	return func(t territory.Territory) (string, error) {
		turn, err := a.d.Turns.Next(ctx, tenant, t.ID)
		if err != nil {
			return "", err
		}
		return territory.PickRep(t, turn), nil
	}
}

func (a *App) leadExists(tenant string) func(context.Context, string) (bool, error) {
	return func(ctx context.Context, id string) (bool, error) {
		agg, err := a.d.Leads.Load(ctx, a.d.Leads.Ref(tenant, id))
		return agg.State.Exists(), err
	}
}

// CreateLead creates a lead. Unless allowDuplicate is set, its normalised email and phone are
// claimed in the uniqueness index before the lead's events are appended, so two concurrent
// creates of one email cannot both succeed; a taken key is AlreadyExists naming the lead.
func (a *App) CreateLead(ctx context.Context, tenant string, cmd lead.NewLead, allowDuplicate bool, w Write) (LeadResult, error) {
	cfg, err := a.Config(ctx, tenant)
	if err != nil {
		return LeadResult{}, err
	}
	// A lead id the service generates is new by construction: the repository skips the read.
	fresh := cmd.ID == ""
	if fresh {
		cmd.ID = a.d.NewID()
	}
	var keys []string
	if !allowDuplicate {
		keys = dedupe.Keys(cmd.Details.Email, cmd.Details.Phone)
	}
	claimed := false
	res, err := a.run(ctx, a.d.Leads.Ref(tenant, cmd.ID), eventstore.Command{Name: "CreateLead", New: fresh}, w, func(l lead.Lead, now time.Time) ([]lead.Event, error) {
		evs, err := lead.Create(l, cmd, cfg.Policy(), a.assigner(ctx, tenant), now)
		if err != nil {
			return nil, err
		}
		// Claim after the decision validated the input, so a rejected lead claims nothing.
		// Claims are idempotent for one lead id, so a decision retried after a conflict is fine.
		if len(keys) > 0 && !claimed {
			if err := a.d.Keys.Claim(ctx, tenant, cmd.ID, keys, a.leadExists(tenant)); err != nil {
				return nil, a.claimError(ctx, tenant, err)
			}
			claimed = true
		}
		return evs, nil
	})
	if err != nil && claimed && releasable(err, cmd.ID) {
		a.d.Keys.Release(ctx, tenant, cmd.ID, keys)
	}
	return res, err
}

// releasable reports whether the uniqueness claims a failed create of record id took may be
// released: the command stored nothing, and it did not fail because a record with this very id
// exists. That record — a concurrent create of the same id (two identical conversions, a
// re-run import row) that won the append — holds the same claims, which must stay.
func releasable(err error, id string) bool {
	var e *apperr.Error
	if errors.As(err, &e) && e.Kind == apperr.AlreadyExists && e.ExistingID == id {
		return false
	}
	return notStored(err)
}

// notStored reports whether a failed command certainly stored nothing, so its uniqueness
// claims may be released. When the store's answer was lost (unavailable, internal) the lead
// may exist: the claim stays pending, and the next claimant settles it by asking whether the
// lead exists.
func notStored(err error) bool {
	switch apperr.KindOf(err) {
	case apperr.Unavailable, apperr.Internal:
		return false
	}
	return true
}

// maxMergeHops bounds the walk from a merged lead to its survivor (merges can chain: A into B,
// later B into C).
const maxMergeHops = 8

func (a *App) claimError(ctx context.Context, tenant string, err error) error {
	var taken *uniqueness.ErrTaken
	switch {
	case errors.As(err, &taken):
		existing := a.liveLead(ctx, tenant, taken.LeadID)
		if ok, err := a.visibleLead(ctx, tenant, existing); err != nil || !ok {
			existing = "" // the key is taken all the same, but the caller may not learn by whom
		}
		e := apperr.Exists("a lead with this "+taken.Key+" exists", existing)
		e.Reason = "DUPLICATE_LEAD"
		return e
	case errors.Is(err, uniqueness.ErrBusy):
		return &apperr.Error{Kind: apperr.Conflict, Reason: "DUPLICATE_CHECK_BUSY", Message: err.Error()}
	}
	return err
}

// liveLead follows merges from the lead holding a key to the lead that survived them, so a
// duplicate is reported against the record a user should open (a merged lead keeps its email's
// claim: the survivor took its fields over, and the key must stay taken). When a lead cannot be
// loaded, the last id known is the answer.
func (a *App) liveLead(ctx context.Context, tenant, id string) string {
	for range maxMergeHops {
		agg, err := a.d.Leads.Load(ctx, a.d.Leads.Ref(tenant, id))
		if err != nil || agg.State.MergedIntoID == "" {
			return id
		}
		id = agg.State.MergedIntoID
	}
	return id
}

// UpdateLead changes the fields of cmd.Paths. A changed email or phone moves the lead's
// uniqueness claim.
func (a *App) UpdateLead(ctx context.Context, tenant, id string, cmd lead.Update, w Write) (LeadResult, error) {
	var newKeys, oldKeys []string
	claimed := false
	res, err := a.execLead(ctx, tenant, id, "UpdateLead", w, func(l lead.Lead, p lead.Policy, now time.Time) ([]lead.Event, error) {
		evs, err := lead.UpdateDetails(l, cmd, p, a.assigner(ctx, tenant), now)
		if err != nil {
			return nil, err
		}
		after := lead.ApplyAll(l, evs...)
		oldKeys = dedupe.Keys(l.Email, l.Phone)
		newKeys = added(dedupe.Keys(after.Email, after.Phone), oldKeys)
		if len(newKeys) > 0 && !claimed {
			if err := a.d.Keys.Claim(ctx, tenant, id, newKeys, a.leadExists(tenant)); err != nil {
				return nil, a.claimError(ctx, tenant, err)
			}
			claimed = true
		}
		oldKeys = added(oldKeys, dedupe.Keys(after.Email, after.Phone))
		return evs, nil
	})
	if err != nil {
		if claimed && notStored(err) {
			a.d.Keys.Release(ctx, tenant, id, newKeys)
		}
		return res, err
	}
	a.d.Keys.Release(ctx, tenant, id, oldKeys)
	return res, nil
}

// added returns the keys of a that are not in b.
func added(a, b []string) []string {
	var out []string
	for _, k := range a {
		if !slices.Contains(b, k) {
			out = append(out, k)
		}
	}
	return out
}

// ChangeStatus moves a lead forward in its lifecycle.
func (a *App) ChangeStatus(ctx context.Context, tenant, id string, cmd lead.StatusChange, w Write) (LeadResult, error) {
	return a.execLead(ctx, tenant, id, "ChangeLeadStatus", w, func(l lead.Lead, p lead.Policy, now time.Time) ([]lead.Event, error) {
		return lead.ChangeStatus(l, cmd, p, now)
	})
}

// Disqualify disqualifies an open lead.
func (a *App) Disqualify(ctx context.Context, tenant, id string, reason lead.DisqualifyReason, note string, w Write) (LeadResult, error) {
	return a.execLead(ctx, tenant, id, "DisqualifyLead", w, func(l lead.Lead, p lead.Policy, now time.Time) ([]lead.Event, error) {
		return lead.Disqualify(l, reason, note, p, now)
	})
}

// Recycle sends a disqualified or stalled lead back to nurture.
func (a *App) Recycle(ctx context.Context, tenant, id, note string, w Write) (LeadResult, error) {
	return a.execLead(ctx, tenant, id, "RecycleLead", w, func(l lead.Lead, p lead.Policy, now time.Time) ([]lead.Event, error) {
		return lead.Recycle(l, note, false, p, now)
	})
}

// SetBant records the lead's BANT; mergeBant builds the full record from the current one.
func (a *App) SetBant(ctx context.Context, tenant, id string, mergeBant func(current lead.Bant) (lead.Bant, error), w Write) (LeadResult, error) {
	return a.execLead(ctx, tenant, id, "SetBant", w, func(l lead.Lead, _ lead.Policy, now time.Time) ([]lead.Event, error) {
		b, err := mergeBant(l.Bant)
		if err != nil {
			return nil, err
		}
		return lead.SetBant(l, b, now)
	})
}

// Assign gives the lead to an owner.
func (a *App) Assign(ctx context.Context, tenant, id string, cmd lead.Assignment, w Write) (LeadResult, error) {
	return a.execLead(ctx, tenant, id, "AssignLead", w, func(l lead.Lead, _ lead.Policy, now time.Time) ([]lead.Event, error) {
		return lead.Assign(l, cmd, now)
	})
}

// AddTags adds tags.
func (a *App) AddTags(ctx context.Context, tenant, id string, tags []string, w Write) (LeadResult, error) {
	return a.execLead(ctx, tenant, id, "AddLeadTags", w, func(l lead.Lead, _ lead.Policy, now time.Time) ([]lead.Event, error) {
		return lead.AddTags(l, tags, now)
	})
}

// RemoveTags removes tags.
func (a *App) RemoveTags(ctx context.Context, tenant, id string, tags []string, w Write) (LeadResult, error) {
	return a.execLead(ctx, tenant, id, "RemoveLeadTags", w, func(l lead.Lead, _ lead.Policy, now time.Time) ([]lead.Event, error) {
		return lead.RemoveTags(l, tags, now)
	})
}

// RecordEngagement records a behaviour signal.
func (a *App) RecordEngagement(ctx context.Context, tenant, id string, sig lead.Signal, w Write) (LeadResult, error) {
	return a.execLead(ctx, tenant, id, "RecordEngagement", w, func(l lead.Lead, p lead.Policy, now time.Time) ([]lead.Event, error) {
		return lead.RecordEngagement(l, sig, p, now)
	})
}

// RecordOpportunityWon records that an opportunity converted from the lead was closed won
// (the reaction to the pipeline service's OpportunityWon calls it).
func (a *App) RecordOpportunityWon(ctx context.Context, tenant, id string, cmd lead.OpportunityWin, w Write) (LeadResult, error) {
	return a.execLead(ctx, tenant, id, "RecordOpportunityWon", w, func(l lead.Lead, _ lead.Policy, now time.Time) ([]lead.Event, error) {
		return lead.RecordOpportunityWon(l, cmd, now)
	})
}

// MergeLeads merges merged into survivor. The merged lead's side is appended first, then the
// survivor's; each side is idempotent, so re-running a merge interrupted between the two
// finishes it.
func (a *App) MergeLeads(ctx context.Context, tenant, survivorID, mergedID string, w Write) (LeadResult, error) {
	if survivorID == mergedID {
		return LeadResult{}, apperr.InvalidFields("cannot merge a lead into itself", apperr.FieldViolation{Field: "merged_id", Description: "must differ from survivor_id"})
	}
	cfg, err := a.Config(ctx, tenant)
	if err != nil {
		return LeadResult{}, err
	}
	scope := authz.ScopeOf(ctx)
	survivor, err := a.d.Leads.Load(ctx, a.d.Leads.Ref(tenant, survivorID))
	if err != nil {
		return LeadResult{}, err
	}
	if !inScope(scope, survivor.State) {
		return LeadResult{}, leadNotFound(survivorID)
	}
	var survivorSide []lead.Event
	mergedKey := ""
	if w.IdempotencyKey != "" {
		mergedKey = w.IdempotencyKey + "/merged"
	}
	if _, err := a.run(ctx, a.d.Leads.Ref(tenant, mergedID), eventstore.Command{Name: "MergeLeads"}, Write{IdempotencyKey: mergedKey}, func(m lead.Lead, now time.Time) ([]lead.Event, error) {
		if !inScope(scope, m) {
			return nil, leadNotFound(mergedID)
		}
		r, err := lead.Merge(survivor.State, m, cfg.Policy(), a.assigner(ctx, tenant), now)
		if err != nil {
			return nil, err
		}
		survivorSide = r.Survivor
		return r.Merged, nil
	}); err != nil {
		return LeadResult{}, err
	}
	return a.run(ctx, a.d.Leads.Ref(tenant, survivorID), eventstore.Command{Name: "MergeLeads"}, w, func(s lead.Lead, _ time.Time) ([]lead.Event, error) {
		if s.Version != survivor.Position.Version {
			// The survivor changed since the merge was decided: decide its side again.
			m, err := a.d.Leads.Load(ctx, a.d.Leads.Ref(tenant, mergedID))
			if err != nil {
				return nil, err
			}
			r, err := lead.Merge(s, m.State, cfg.Policy(), a.assigner(ctx, tenant), a.now(ctx))
			if err != nil {
				return nil, err
			}
			return r.Survivor, nil
		}
		return survivorSide, nil
	})
}

// GetLead returns one lead from the read model.
func (a *App) GetLead(ctx context.Context, tenant, id string, r Read) (lead.Lead, error) {
	if err := a.waitRead(ctx, r); err != nil {
		return lead.Lead{}, err
	}
	l, err := a.d.Views.Get(ctx, tenant, id)
	if err == nil && !inScope(authz.ScopeOf(ctx), l) {
		return lead.Lead{}, leadNotFound(id)
	}
	return l, err
}

// ListLeads lists leads from the read model.
func (a *App) ListLeads(ctx context.Context, q ListQuery, r Read) ([]lead.Lead, string, error) {
	if err := a.waitRead(ctx, r); err != nil {
		return nil, "", err
	}
	q.Scope = readScope(ctx)
	return a.d.Views.List(ctx, q)
}

// SearchLeads searches leads in the read model.
func (a *App) SearchLeads(ctx context.Context, q SearchQuery, r Read) ([]lead.Lead, string, error) {
	if err := a.waitRead(ctx, r); err != nil {
		return nil, "", err
	}
	q.Scope = readScope(ctx)
	return a.d.Views.Search(ctx, q)
}
