package chquery

import (
	"context"
	"fmt"
)

// Snapshot names the current-state snapshots (migration 0013, package chsnapshot) the metric
// queries read: the snapshot table of each source table.
var Snapshot = map[string]string{"leads": "leads_snapshot", "opportunities": "opportunities_snapshot"}

// snapshotParams sets the query parameters snapshot and upto to the latest complete snapshot
// of name (a key of Snapshot) and the stream sequence it holds every event up to. Without a
// usable one both are 0, and the query reads every row of the source table through FINAL:
// slower, never different. A snapshot is usable when its partition holds the rows its
// registry row says: a rebuild in another process that swapped the tables between a
// snapshot's INSERT and its registration would leave a registered id with no rows.
func snapshotParams(ctx context.Context, q Querier, name string, p Params) error {
	p["snapshot"], p["upto"] = uint64(0), uint64(0)
	var id, upto, rows, n uint64
	err := scanOne(ctx, q, fmt.Sprintf("SELECT max(snapshot), argMax(upto_seq, snapshot), argMax(rows, snapshot) "+
		"FROM snapshots WHERE name = %s", quote(name)), &id, &upto, &rows)
	if err == nil && id != 0 {
		err = scanOne(ctx, q, fmt.Sprintf("SELECT count() FROM %s WHERE snapshot = %d", Snapshot[name], id), &n)
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil || id == 0 || n != rows:
		// No snapshot, or none to trust: FINAL over everything gives the same answer. An
		// error of ClickHouse itself shows again in the metric's own query.
		return nil
	}
	p["snapshot"], p["upto"] = id, upto
	return nil
}

func scanOne(ctx context.Context, q Querier, sql string, dest ...any) error {
	rows, err := q.Query(ctx, sql)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return fmt.Errorf("chquery: no row from %q", sql)
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Err()
}

// UsableSnapshot returns the snapshot of name (a key of Snapshot) the metric queries would
// read now, and its upto_seq: 0, 0 for none.
func UsableSnapshot(ctx context.Context, q Querier, name string) (id, upto uint64, err error) {
	p := Params{}
	if err := snapshotParams(ctx, q, name, p); err != nil {
		return 0, 0, err
	}
	return p["snapshot"].(uint64), p["upto"].(uint64), nil
}
