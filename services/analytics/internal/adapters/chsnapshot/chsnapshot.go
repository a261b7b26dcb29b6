// Package chsnapshot keeps the current-state snapshots of leads and opportunities (migration
// 0013) that GetFunnel and GetSalesVelocity read instead of collapsing every version with
// FINAL: on 18.16 FINAL merges every part in one thread, and over a million leads it was most
// of the funnel's time (docs/analytics.md "Snapshots").
//
// A snapshot is INSERT INTO <table>_snapshot SELECT … FROM <table> FINAL into a partition of
// its own, then a row in snapshots naming it with upto_seq: the projector's position in the
// source stream (its consumer's ack floor) read before the copy began, so every event up to
// it is in the copy. The queries take the latest registered snapshot for the entities with no
// row after upto_seq and FINAL over the rows after it for the others, which gives what FINAL
// over the whole table gives whatever happened since (chquery, funnel.sql). A snapshot only
// makes queries faster; a missing or stale one makes them slower, never different.
package chsnapshot

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chwriter"
)

// Spec is one snapshot: its name (SpecOf), its name in the snapshots table, the source table
// and stream, and the columns the snapshot table copies.
type Spec struct {
	Name string
	// Registry is the snapshot's name in the snapshots table. It changes whenever Columns
	// gain one: a snapshot taken before holds the new column's default, so the queries must
	// not read it, and under the new name it is neither the latest nor kept (its partition is
	// dropped as superseded once a snapshot under the new name has been registered for
	// Options.Grace).
	Registry                string
	Table, Stream, Snapshot string
	Columns                 []string
}

// Specs are the snapshots the service keeps.
var Specs = []Spec{
	{Name: "leads", Registry: "leads", Table: "leads", Stream: "CRM_LEADS", Snapshot: "leads_snapshot",
		Columns: []string{"tenant", "lead_id", "status", "source", "campaign_id", "owner_id", "territory_id",
			"created_at", "converted_at", "mql_at", "sal_at", "sql_at", "won_at", "merged_into_id"}},
	// v2: forecast_category, probability, lead_id and expected_close_date (migration 0014).
	{Name: "opportunities", Registry: "opportunities.v2", Table: "opportunities", Stream: "CRM_PIPELINE", Snapshot: "opportunities_snapshot",
		Columns: []string{"tenant", "opportunity_id", "pipeline_id", "status", "forecast_category", "probability",
			"amount_micros", "currency", "owner_id", "lead_id", "campaign_id", "source", "expected_close_date",
			"created_at", "closed_at"}},
}

// Positions returns the projector's position in each stream: the sequence every event up to
// which is in ClickHouse (the live consumer's ack floor), by stream name.
type Positions func(ctx context.Context) (map[string]uint64, error)

// Gate is held for reading while a snapshot is taken, so that a rebuild in this process does
// not swap the tables in the middle of one (the projector's gate).
type Gate interface {
	RLock()
	RUnlock()
}

// Options tune a Refresher; zero values take the defaults.
type Options struct {
	// Check is how often Run looks for a snapshot to take (default 5 s).
	Check time.Duration
	// MinInterval is the least time between two snapshots of a table (default 1 min).
	MinInterval time.Duration
	// Share bounds the time spent taking snapshots: after one of a table that took d, the
	// next waits at least d/Share (default 0.02: each table's snapshots at most a fiftieth of
	// the time, on ClickHouse's side): a snapshot competes with the projector's inserts.
	Share float64
	// Grace is how long a snapshot stays after a newer one was registered, for the queries
	// that chose it just before (default 2 min).
	Grace time.Duration
	// PruneAfter is how many registry rows of dropped snapshots may gather before they are
	// deleted (default 100): one row per table per snapshot would otherwise grow the registry
	// by thousands of rows a day, and every metric query reads it. Each deletion is a
	// mutation (ALTER TABLE … DELETE), so they are batched.
	PruneAfter int
	Gate       Gate
	// Now replaces time.Now (tests).
	Now    func() time.Time
	Logger *slog.Logger
}

// Refresher takes the snapshots.
type Refresher struct {
	conn driver.Conn
	pos  Positions
	opts Options
}

// New returns a Refresher writing through conn (whose default database holds the tables),
// reading the projector's positions from pos.
func New(conn driver.Conn, pos Positions, opts Options) *Refresher {
	if opts.Check <= 0 {
		opts.Check = 5 * time.Second
	}
	if opts.MinInterval <= 0 {
		opts.MinInterval = time.Minute
	}
	if opts.Share <= 0 || opts.Share > 1 {
		opts.Share = 0.02
	}
	if opts.Grace <= 0 {
		opts.Grace = 2 * time.Minute
	}
	if opts.PruneAfter <= 0 {
		opts.PruneAfter = 100
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Refresher{conn: conn, pos: pos, opts: opts}
}

// Run takes a snapshot of each table whenever events were projected into it since its last
// one and the pacing allows, until ctx ends. Failures are logged and tried again at the next
// check: the queries are right without snapshots, only slower.
func (r *Refresher) Run(ctx context.Context) error {
	t := time.NewTicker(r.opts.Check)
	defer t.Stop()
	for {
		// One look at the projector's positions serves every table of the check.
		pos, err := r.pos(ctx)
		if err != nil && ctx.Err() == nil {
			r.opts.Logger.WarnContext(ctx, "chsnapshot: reading the projector's positions failed; no snapshot this time", "error", err)
		}
		for _, s := range Specs {
			if err != nil {
				break
			}
			if _, err := r.refresh(ctx, s, pos, false); err != nil && ctx.Err() == nil {
				r.opts.Logger.WarnContext(ctx, "chsnapshot: taking a snapshot failed; the queries read FINAL until one succeeds",
					"snapshot", s.Name, "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Latest is the newest registered snapshot of a table.
type Latest struct {
	ID, Upto, Rows uint64
	TakenAt        time.Time
	Took           time.Duration
}

// Querier is the part of a clickhouse-go driver.Conn that reading the registry needs (the
// metric queries' connection has it too).
type Querier interface {
	Query(ctx context.Context, query string, args ...any) (driver.Rows, error)
}

// LatestOf reads the newest registered snapshot of s (zero when there is none).
func LatestOf(ctx context.Context, q Querier, s Spec) (Latest, error) {
	var l Latest
	var took uint64
	if err := scanOne(ctx, q, "SELECT max(snapshot), argMax(upto_seq, snapshot), argMax(rows, snapshot), "+
		"argMax(taken_at, snapshot), argMax(took_ms, snapshot) FROM snapshots WHERE name = "+quote(s.Registry),
		&l.ID, &l.Upto, &l.Rows, &l.TakenAt, &took); err != nil {
		return Latest{}, fmt.Errorf("chsnapshot: %s: latest: %w", s.Name, err)
	}
	l.Took = time.Duration(took) * time.Millisecond
	return l, nil
}

// Usable returns the snapshot the metric queries may read for s: the newest registered one,
// when its partition holds the rows its registry row says. A rebuild in another process that
// swapped the tables between a snapshot's copy and its registration leaves a registered id with
// no rows; ok is false then, as when there is no snapshot, and the queries read FINAL.
func Usable(ctx context.Context, q Querier, s Spec) (l Latest, ok bool, err error) {
	if l, err = LatestOf(ctx, q, s); err != nil || l.ID == 0 {
		return Latest{}, false, err
	}
	var n uint64
	if err := scanOne(ctx, q, fmt.Sprintf("SELECT count() FROM %s WHERE snapshot = %d", s.Snapshot, l.ID), &n); err != nil {
		return Latest{}, false, fmt.Errorf("chsnapshot: %s: rows of snapshot %d: %w", s.Name, l.ID, err)
	}
	if n != l.Rows {
		return Latest{}, false, nil
	}
	return l, true, nil
}

// SpecOf returns the Spec named name.
func SpecOf(name string) (Spec, bool) {
	for _, s := range Specs {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
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
		return fmt.Errorf("no row from %q", sql)
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Err()
}

// Refresh takes a snapshot of s when the projector's position in its stream differs from the
// latest snapshot's and, unless force is set or the position went back, the pacing
// (Options.MinInterval, Options.Share) allows one now. It reports whether it took one.
func (r *Refresher) Refresh(ctx context.Context, s Spec, force bool) (bool, error) {
	pos, err := r.pos(ctx)
	if err != nil {
		return false, fmt.Errorf("chsnapshot: %s: projector position: %w", s.Name, err)
	}
	return r.refresh(ctx, s, pos, force)
}

// refresh is Refresh with the projector's positions read.
func (r *Refresher) refresh(ctx context.Context, s Spec, pos map[string]uint64, force bool) (bool, error) {
	if r.opts.Gate != nil {
		r.opts.Gate.RLock()
		defer r.opts.Gate.RUnlock()
	}
	latest, err := LatestOf(ctx, r.conn, s)
	if err != nil {
		return false, err
	}
	upto := pos[s.Stream]
	switch {
	case upto == 0 || upto == latest.Upto:
		return false, nil // nothing projected, or nothing since
	case upto < latest.Upto:
		// The position went back: a consumer created anew re-projects from the start (the
		// latest snapshot stays right), or the stream itself was created anew and its
		// sequences start over (the latest snapshot's upto_seq would hide every new row). A
		// snapshot at the lower position is right in both cases, so one is taken now.
		r.opts.Logger.WarnContext(ctx, "chsnapshot: the projector's position is behind the latest snapshot's; taking a new one",
			"snapshot", s.Name, "position", upto, "snapshot_upto", latest.Upto)
		force = true
	}
	if !force && latest.ID != 0 {
		wait := max(r.opts.MinInterval, time.Duration(float64(latest.Took)/r.opts.Share))
		if r.opts.Now().Sub(latest.TakenAt) < wait {
			return false, nil
		}
	}
	start := r.opts.Now()
	id := max(uint64(start.UnixNano()), latest.ID+1) // newer than the latest even if the clock is not
	cols := strings.Join(s.Columns, ", ")
	if err := r.conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s (snapshot, %s) SELECT toUInt64(%d), %s FROM %s FINAL",
		s.Snapshot, cols, id, cols, s.Table)); err != nil {
		return false, fmt.Errorf("chsnapshot: %s: copy: %w", s.Name, err)
	}
	var rows uint64
	if err := r.conn.QueryRow(ctx, fmt.Sprintf("SELECT count() FROM %s WHERE snapshot = %d", s.Snapshot, id)).Scan(&rows); err != nil {
		return false, fmt.Errorf("chsnapshot: %s: count: %w", s.Name, err)
	}
	end := r.opts.Now()
	took := end.Sub(start)
	// INSERT … SELECT: 18.16 takes no inline VALUES through the native protocol's Exec.
	if err := r.conn.Exec(ctx, fmt.Sprintf("INSERT INTO snapshots (name, snapshot, upto_seq, rows, taken_at, took_ms) "+
		"SELECT %s, toUInt64(%d), toUInt64(%d), toUInt64(%d), toDateTime(%d), toUInt64(%d)",
		quote(s.Registry), id, upto, rows, end.Unix(), took.Milliseconds())); err != nil {
		return false, fmt.Errorf("chsnapshot: %s: register: %w", s.Name, err)
	}
	r.opts.Logger.DebugContext(ctx, "chsnapshot: snapshot taken", "snapshot", s.Name, "id", id, "upto", upto, "rows", rows, "took", took)
	return true, r.dropOld(ctx, s)
}

// dropOld drops the partitions of the snapshots older than the newest one registered more
// than Options.Grace ago: no query chooses them any more. Partitions of snapshots never
// registered (a refresher that died in the middle) go the same way. Their registry rows are
// deleted once Options.PruneAfter of them have gathered.
func (r *Refresher) dropOld(ctx context.Context, s Spec) error {
	var keep uint64
	cutoff := r.opts.Now().Add(-r.opts.Grace).Unix()
	if err := r.conn.QueryRow(ctx, fmt.Sprintf("SELECT max(snapshot) FROM snapshots WHERE name = %s AND taken_at < toDateTime(%d)",
		quote(s.Registry), cutoff)).Scan(&keep); err != nil {
		return fmt.Errorf("chsnapshot: %s: superseded: %w", s.Name, err)
	}
	if keep == 0 {
		return nil
	}
	parts, err := r.Partitions(ctx, s)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if p < keep {
			if err := r.conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP PARTITION %d", s.Snapshot, p)); err != nil {
				return fmt.Errorf("chsnapshot: %s: drop snapshot %d: %w", s.Name, p, err)
			}
		}
	}
	var old uint64
	superseded := fmt.Sprintf("name = %s AND snapshot < %d", quote(s.Registry), keep)
	if err := r.conn.QueryRow(ctx, "SELECT count() FROM snapshots WHERE "+superseded).Scan(&old); err != nil {
		return fmt.Errorf("chsnapshot: %s: superseded registry rows: %w", s.Name, err)
	}
	if old >= uint64(r.opts.PruneAfter) {
		// A mutation, run in the background; the rows it deletes name dropped partitions
		// only, so no query reads them in the meantime (LatestOf takes the newest).
		if err := r.conn.Exec(ctx, "ALTER TABLE snapshots DELETE WHERE "+superseded); err != nil {
			return fmt.Errorf("chsnapshot: %s: prune the registry: %w", s.Name, err)
		}
	}
	return nil
}

// Partitions lists the snapshots (partitions) the snapshot table of s holds, oldest first.
func (r *Refresher) Partitions(ctx context.Context, s Spec) ([]uint64, error) {
	rows, err := r.conn.Query(ctx, "SELECT DISTINCT partition FROM system.parts WHERE active AND database = currentDatabase() AND table = "+quote(s.Snapshot))
	if err != nil {
		return nil, fmt.Errorf("chsnapshot: %s: partitions: %w", s.Name, err)
	}
	defer rows.Close()
	var out []uint64
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		id, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("chsnapshot: %s: partition %q: %w", s.Name, p, err)
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return out, rows.Err()
}

// quote renders a name as a string literal.
var quote = chwriter.Quote
