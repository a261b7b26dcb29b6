// Package projector is the analytics service's event port: durable JetStream consumers on
// CRM_LEADS, CRM_PIPELINE and CRM_CAMPAIGN (libs/projection) that hand their batches to the
// ClickHouse writer, the projection status, and the rebuild into fresh tables.
package projector

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chwriter"
)

// Writer writes a batch of events into ClickHouse (chwriter.Writer).
type Writer interface {
	Write(ctx context.Context, evs []projection.Event) error
}

// storeRetry paces the retries of a batch while ClickHouse is failing: fast at first so a
// restart costs little, then every few seconds.
func storeRetry(attempt int) time.Duration {
	return min(100*time.Millisecond<<min(attempt, 6), 5*time.Second)
}

// outOfOrderWaits pace the writes of a batch some of whose events wait for an earlier event
// of their aggregate (chwriter.ErrOutOfOrder; the writer has written the rest). With replicas
// sharing the consumers that event is usually being written by another replica at this very
// moment, so the batch is written again here after a short wait instead of going back to the
// Runner: each redelivery counts towards chwriter's GapPatience, after which the writer
// applies events over the gap and the earlier event, when it comes, is lost as a replay.
// Only an event that stays missing for all these waits (about 1.5 s) costs a delivery.
var outOfOrderWaits = []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}

// sleep waits d unless ctx ends first; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// handler adapts a Writer to projection.Handler.
//
// While ClickHouse fails it retries the same batch itself, for as long as it takes, instead of
// returning the error: the Runner would otherwise count a delivery per failure and dead-letter
// healthy events after MaxDeliver attempts of an outage. Memory stays bounded because the
// Runner fetches nothing while Handle runs (one batch per stream in flight) and keeps the
// batch's acks alive meanwhile. Events out of order are written again a few times after short
// waits (outOfOrderWaits). Every other outcome of Write (poison events, events still out of
// order) goes back to the Runner, which dead-letters or redelivers.
type handler struct {
	w    Writer
	gate *sync.RWMutex
	log  *slog.Logger
	// failing is set while ClickHouse is failing, for the status and the logs.
	mu      sync.Mutex
	failing bool
}

func (h *handler) Handle(ctx context.Context, evs []projection.Event) error {
	if h.gate != nil {
		// A rebuild holds the gate while it swaps the tables, so that no batch is half
		// written into the old tables and half into the new.
		h.gate.RLock()
		defer h.gate.RUnlock()
	}
	waits := 0
	for attempt := 1; ; attempt++ {
		err := h.w.Write(ctx, evs)
		if errors.Is(err, chwriter.ErrOutOfOrder) && waits < len(outOfOrderWaits) {
			if !sleep(ctx, outOfOrderWaits[waits]) {
				return err
			}
			waits++
			continue
		}
		var se *chwriter.StoreError
		if err == nil || !errors.As(err, &se) {
			h.setFailing(false, nil, len(evs))
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		h.setFailing(true, err, len(evs))
		t := time.NewTimer(storeRetry(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

func (h *handler) setFailing(failing bool, err error, n int) {
	h.mu.Lock()
	was := h.failing
	h.failing = failing
	h.mu.Unlock()
	switch {
	case failing && !was:
		h.log.Warn("projector: clickhouse insert failed; retrying the batch until it succeeds", "events", n, "err", err)
	case !failing && was:
		h.log.Info("projector: clickhouse insert succeeded again")
	}
}
