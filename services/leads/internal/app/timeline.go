package app

import (
	"context"
)

// Timeline returns everything that happened to one record — its own events (leads, contacts,
// accounts), the activities that concern it and the tasks about it — newest first. An
// opportunity's timeline here holds only its activities and tasks; its own events live in the
// pipeline service (the cross-service 360° view is analytics').
//
// A lead, account or contact out of the caller's row-level scope has the timeline of a record
// that does not exist: empty. The query still runs, so a bad page token is refused the same
// way for both.
func (a *App) Timeline(ctx context.Context, q TimelineQuery, r Read) ([]TimelineEntry, string, error) {
	if err := a.waitActivities(ctx, r); err != nil {
		return nil, "", err
	}
	visible, err := a.visibleRecord(ctx, q.Tenant, q.Record)
	if err != nil {
		return nil, "", err
	}
	entries, next, err := a.d.Activity.Views.Timeline(ctx, q)
	if err != nil || !visible {
		return nil, "", err
	}
	return entries, next, nil
}
