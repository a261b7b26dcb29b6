package app

import (
	"context"
)

// Timeline returns everything that happened to one record — its own events (leads, contacts,
// accounts), the activities that concern it and the tasks about it — newest first. An
// opportunity's timeline here holds only its activities and tasks; its own events live in the
// pipeline service (the cross-service 360° view is analytics').
func (a *App) Timeline(ctx context.Context, q TimelineQuery, r Read) ([]TimelineEntry, string, error) {
	if err := a.waitActivities(ctx, r); err != nil {
		return nil, "", err
	}
	return a.d.Activity.Views.Timeline(ctx, q)
}
