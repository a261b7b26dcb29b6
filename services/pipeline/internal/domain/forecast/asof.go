package forecast

import (
	"slices"
	"strings"
	"time"

	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
)

// Recorded is one opportunity event as the log holds it: RecordedAt is when it was appended
// (the stream's timestamp), which is what "as the log knew it" means. It normally equals the
// event's OccurredAt; a late or replayed append would differ, and then the recorded time is the
// one that tells what was known.
type Recorded struct {
	OpportunityID string
	RecordedAt    time.Time
	Event         opportunity.Event
}

// FoldAsOf folds, per opportunity and in log order, the events recorded at or before t, and
// returns the state of every opportunity that existed at t.
func FoldAsOf(log []Recorded, t time.Time) map[string]opportunity.Opportunity {
	out := map[string]opportunity.Opportunity{}
	for _, r := range log {
		if r.RecordedAt.After(t) {
			continue
		}
		out[r.OpportunityID] = opportunity.Apply(out[r.OpportunityID], r.Event)
	}
	return out
}

// AsOf returns the snapshots of every opportunity as the log knew it at t, ordered by id: the
// input of Compute for "the forecast as of t".
func AsOf(log []Recorded, t time.Time) []Snapshot {
	states := FoldAsOf(log, t)
	out := make([]Snapshot, 0, len(states))
	for _, o := range states {
		out = append(out, SnapshotOf(o))
	}
	slices.SortFunc(out, func(a, b Snapshot) int { return strings.Compare(a.OpportunityID, b.OpportunityID) })
	return out
}
