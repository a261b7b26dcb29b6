package app

import (
	"context"
	"time"
)

// StreamStatus is the projector's position in one stream.
type StreamStatus struct {
	Stream            string
	LastSequence      uint64
	ProjectedSequence uint64
	Pending           uint64
	// Lag is the age of the oldest event not yet projected (0 when caught up).
	Lag time.Duration
}

// ProjectionStatus is the projector's position in every stream.
type ProjectionStatus struct {
	Streams []StreamStatus
	// Rebuilding is true while a rebuild runs in this process.
	Rebuilding bool
}

// Projection is the projector as the application drives it (ports/projector implements it).
type Projection interface {
	// Status reports the live consumers' positions.
	Status(ctx context.Context) ([]StreamStatus, error)
	// Rebuild rebuilds every table into new tables and swaps them in, reporting the rebuild
	// consumers' positions to progress as it goes.
	Rebuild(ctx context.Context, progress func([]StreamStatus)) error
	// Rebuilding reports whether a rebuild runs.
	Rebuilding(ctx context.Context) bool
}

// ProjectionStatus reports where the projector stands in each stream.
func (a *App) ProjectionStatus(ctx context.Context) (ProjectionStatus, error) {
	if a.d.Projection == nil {
		return ProjectionStatus{}, nil
	}
	sts, err := a.d.Projection.Status(ctx)
	if err != nil {
		return ProjectionStatus{}, err
	}
	return ProjectionStatus{Streams: sts, Rebuilding: a.d.Projection.Rebuilding(ctx)}, nil
}

// RebuildProgress is one progress report of a rebuild; the last one has Done set.
type RebuildProgress struct {
	Streams []StreamStatus
	Done    bool
}

// Rebuild rebuilds every table from the start of the streams while queries keep answering from
// the current tables, and swaps the new ones in. progress receives the positions as it goes and
// a last report with Done set. Cancelling ctx abandons the rebuild and leaves the current
// tables as they were.
func (a *App) Rebuild(ctx context.Context, progress func(RebuildProgress)) error {
	if a.d.Projection == nil {
		return nil
	}
	var last []StreamStatus
	err := a.d.Projection.Rebuild(ctx, func(sts []StreamStatus) {
		last = sts
		progress(RebuildProgress{Streams: sts})
	})
	if err != nil {
		return err
	}
	progress(RebuildProgress{Streams: last, Done: true})
	return nil
}
