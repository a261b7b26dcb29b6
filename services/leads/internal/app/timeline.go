package app

import (
	"context"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/platform/authz"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/activitymodel"
)

// Timeline returns everything that happened to one record — its own events (leads, contacts,
// accounts), the activities that concern it and the tasks about it — newest first. An
// opportunity's timeline here holds only its activities and tasks; its own events live in the
// pipeline service (the cross-service 360° view is analytics').
//
// The timeline of a lead, account or contact that does not exist, or is out of the caller's
// row-level scope, is NotFound, the answer the record's own Get gives; the query still runs
// first, so a bad page token is refused the same way for both. Every entry of a record in
// scope is shown (its activities and tasks are in scope through it). An opportunity is not
// judged here (its owner is the pipeline's): a caller with a restricted scope gets only the
// entries whose activity or task is in its scope, and the conversion entry when the lead
// converted is.
func (a *App) Timeline(ctx context.Context, q TimelineQuery, r Read) ([]TimelineEntry, string, error) {
	if err := a.waitActivities(ctx, r); err != nil {
		return nil, "", err
	}
	visible := true
	if q.Record.Type.Owned() {
		var err error
		if visible, err = a.existingVisibleRecord(ctx, q.Tenant, q.Record); err != nil {
			return nil, "", err
		}
	} else if s := authz.ScopeOf(ctx); !s.All {
		q.EntryScope = &activitymodel.Scope{Owners: s.Owners, Territories: s.Territories}
	}
	entries, next, err := a.d.Activity.Views.Timeline(ctx, q)
	if err != nil {
		return nil, "", err
	}
	if !visible {
		return nil, "", apperr.NotFoundf(q.Record.Type.String(), q.Record.ID)
	}
	return entries, next, nil
}
