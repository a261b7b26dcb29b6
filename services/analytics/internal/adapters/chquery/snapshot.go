package chquery

import (
	"context"
	"fmt"

	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chsnapshot"
)

// snapshotParams sets the query parameters <prefix>snapshot and <prefix>upto to the snapshot
// of name (a chsnapshot.Specs name) the query may read (chsnapshot.Usable) and the stream
// sequence it holds every event up to. Without one both are 0, and the query reads every row of
// the source table through FINAL: slower, never different. So a failure to read the registry
// falls back to FINAL as well; an error of ClickHouse itself shows again in the metric's own
// query.
func snapshotParams(ctx context.Context, q Querier, name, prefix string, p Params) error {
	p[prefix+"snapshot"], p[prefix+"upto"] = uint64(0), uint64(0)
	spec, ok := chsnapshot.SpecOf(name)
	if !ok {
		return fmt.Errorf("chquery: no snapshot %q", name)
	}
	l, ok, err := chsnapshot.Usable(ctx, q, spec)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil || !ok:
		return nil
	}
	p[prefix+"snapshot"], p[prefix+"upto"] = l.ID, l.Upto
	return nil
}
