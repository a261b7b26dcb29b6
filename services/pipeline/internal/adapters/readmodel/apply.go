package readmodel

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// Apply stores one projector batch and moves the checkpoint of stream to lastSeq, in one
// transaction: the checkpoint always describes exactly the rows that are stored. A change whose
// version is not above the stored one is skipped and the checkpoint never moves back, so
// replaying a batch (redelivery after a crash) changes nothing. Changes of the same aggregate
// later in the batch win over earlier ones. An invalid change (ErrBadChange) rejects the whole
// batch before anything is written.
func (s *Store) Apply(ctx context.Context, stream string, lastSeq uint64, b Batch) error {
	if stream == "" {
		return fmt.Errorf("%w: empty stream", ErrBadChange)
	}
	if lastSeq > math.MaxInt64 {
		return fmt.Errorf("%w: sequence %d out of range", ErrBadChange, lastSeq)
	}
	// Encoding and validation happen before the write lock is taken.
	opps := make([]oppWrite, len(b.Opportunities))
	for i, c := range b.Opportunities {
		w, err := prepareOpportunity(c)
		if err != nil {
			return fmt.Errorf("%w: opportunities[%d] (%s): %w", ErrBadChange, i, c.State.ID, err)
		}
		opps[i] = w
	}
	pipes := make([]docWrite, len(b.Pipelines))
	for i, c := range b.Pipelines {
		w, err := prepareDoc(c.Tenant, c.State.ID, c.State.Version, c.Seq, c.State)
		if err != nil {
			return fmt.Errorf("%w: pipelines[%d] (%s): %w", ErrBadChange, i, c.State.ID, err)
		}
		w.archived = c.State.Pipeline.Archived
		pipes[i] = w
	}
	contracts := make([]contractWrite, len(b.Contracts))
	for i, c := range b.Contracts {
		w, err := prepareContract(c)
		if err != nil {
			return fmt.Errorf("%w: contracts[%d] (%s): %w", ErrBadChange, i, c.State.ID, err)
		}
		contracts[i] = w
	}
	err := s.db.Write(ctx, func(tx *sql.Tx) (map[string]uint64, error) {
		w := &writer{ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}}
		defer w.close()
		for i := range opps {
			if err := w.opportunity(&opps[i]); err != nil {
				return nil, err
			}
		}
		for i := range pipes {
			if err := w.pipeline(&pipes[i]); err != nil {
				return nil, err
			}
		}
		for i := range contracts {
			if err := w.contract(&contracts[i]); err != nil {
				return nil, err
			}
		}
		return map[string]uint64{stream: lastSeq}, nil
	})
	if err != nil {
		if errors.Is(err, ErrClosed) {
			return err
		}
		return fmt.Errorf("readmodel: apply: %w", err)
	}
	s.changed(ctx, len(opps)+len(pipes)+len(contracts))
	return nil
}

// writer runs one Apply's statements, each prepared once per transaction.
type writer struct {
	ctx   context.Context
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (w *writer) stmt(query string) (*sql.Stmt, error) {
	if st, ok := w.stmts[query]; ok {
		return st, nil
	}
	st, err := w.tx.PrepareContext(w.ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", query, err)
	}
	w.stmts[query] = st
	return st, nil
}

func (w *writer) exec(query string, args ...any) (sql.Result, error) {
	st, err := w.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(w.ctx, args...)
}

func (w *writer) close() {
	for _, st := range w.stmts {
		_ = st.Close()
	}
}

// validIdentity checks what every change needs.
func validIdentity(tenant, id string, version, seq uint64) error {
	switch {
	case tenant == "":
		return errors.New("empty tenant")
	case id == "":
		return errors.New("empty id")
	case version == 0:
		return errors.New("version 0 (the aggregate does not exist)")
	case version > math.MaxInt64 || seq > math.MaxInt64:
		return errors.New("version or sequence out of range")
	}
	return nil
}

// docWrite is an aggregate stored as a document, ready to store.
type docWrite struct {
	tenant, id   string
	version, seq int64
	doc          []byte
	archived     bool
}

func prepareDoc(tenant, id string, version, seq uint64, state any) (docWrite, error) {
	if err := validIdentity(tenant, id, version, seq); err != nil {
		return docWrite{}, err
	}
	doc, err := json.Marshal(state)
	if err != nil {
		return docWrite{}, fmt.Errorf("encode: %w", err)
	}
	return docWrite{tenant: tenant, id: id, version: int64(version), seq: int64(seq), doc: doc}, nil
}

// oppWrite is an OpportunityChange ready to store.
type oppWrite struct {
	tenant, id   string
	version, seq int64
	row          oppRow
	doc          []byte
	tags         []string
	points       []histPoint // ascending versions; the last is State
}

// histPoint is a version of the opportunity as the history table sees it.
type histPoint struct {
	version int64
	from    int64 // recorded time, unix ns
	f       facts
	c       counted
}

func prepareOpportunity(c OpportunityChange) (oppWrite, error) {
	o := c.State
	if err := validIdentity(c.Tenant, o.ID, o.Version, c.Seq); err != nil {
		return oppWrite{}, err
	}
	all := append(slices.Clip(c.History), HistoryPoint{State: o, RecordedAt: c.RecordedAt})
	points := make([]histPoint, 0, len(all))
	for i, p := range all {
		if p.State.ID != o.ID {
			return oppWrite{}, fmt.Errorf("history[%d] is opportunity %q", i, p.State.ID)
		}
		v := int64(p.State.Version)
		if p.State.Version == 0 || p.State.Version > o.Version {
			return oppWrite{}, fmt.Errorf("history[%d] has version %d, not in 1…%d", i, p.State.Version, o.Version)
		}
		if n := len(points); n > 0 && points[n-1].version >= v {
			if i == len(all)-1 && points[n-1].version == v {
				points = points[:n-1] // History ended with State itself
			} else {
				return oppWrite{}, fmt.Errorf("history[%d]: versions must ascend", i)
			}
		}
		from, err := recordedNs(p.RecordedAt)
		if err != nil {
			return oppWrite{}, fmt.Errorf("history[%d]: %w", i, err)
		}
		f, cnt, err := factsOf(p.State)
		if err != nil {
			return oppWrite{}, fmt.Errorf("version %d: %w", v, err)
		}
		points = append(points, histPoint{version: v, from: from, f: f, c: cnt})
	}
	doc, err := json.Marshal(o)
	if err != nil {
		return oppWrite{}, fmt.Errorf("encode: %w", err)
	}
	last := points[len(points)-1]
	w := oppWrite{tenant: c.Tenant, id: o.ID, version: int64(o.Version), seq: int64(c.Seq), doc: doc,
		tags: o.Tags, points: points}
	w.row = oppRow{pipelineID: o.PipelineID, stageID: o.StageID, ownerID: o.OwnerID, accountID: o.AccountID,
		campaignID: o.PrimaryCampaignID, status: int64(o.Status), category: int64(o.ForecastCategory),
		closeDate: last.f.closeDate, closedOn: last.f.closedOn, currency: last.f.currency,
		amountUnits: last.f.amount.units, amountNanos: int64(last.f.amount.nanos), probability: int64(o.Probability),
		fcDay: last.c.dayValue(), fcMonth: last.c.monthValue(), fcCategory: last.c.categoryValue(),
		weightedUnits: last.c.weighted.units, weightedNanos: int64(last.c.weighted.nanos),
		createdAt: timeToDB(o.CreatedAt), updatedAt: timeToDB(o.UpdatedAt), tags: strings.Join(o.Tags, tagSep)}
	return w, nil
}

// tagSep separates tags in opportunities.tags; the domain refuses control characters in tags.
const tagSep = "\x1f"

// oppRow holds the opportunities columns an update may change.
type oppRow struct {
	pipelineID, stageID, ownerID, accountID, campaignID string
	status, category                                    int64
	closeDate, closedOn, currency                       string
	amountUnits, amountNanos, probability               int64
	fcDay, fcMonth, fcCategory                          any // NULL when the opportunity is not counted
	weightedUnits, weightedNanos                        int64
	createdAt, updatedAt                                int64
	tags                                                string
}

var oppRowColumns = []string{"pipeline_id", "stage_id", "owner_id", "account_id", "primary_campaign_id",
	"status", "forecast_category", "expected_close_date", "closed_on", "currency", "amount_units", "amount_nanos",
	"probability", "fc_day", "fc_month", "fc_category", "weighted_units", "weighted_nanos", "created_at", "updated_at", "tags"}

func (r *oppRow) values() []any {
	return []any{r.pipelineID, r.stageID, r.ownerID, r.accountID, r.campaignID, r.status, r.category,
		r.closeDate, r.closedOn, r.currency, r.amountUnits, r.amountNanos, r.probability, r.fcDay, r.fcMonth, r.fcCategory,
		r.weightedUnits, r.weightedNanos, r.createdAt, r.updatedAt, r.tags}
}

// stored is the part of an opportunities row Apply reads back.
type stored struct {
	pk, version, histVersion, histFrom int64
	row                                oppRow
}

func (s *stored) facts() facts {
	r := &s.row
	return facts{owner: r.ownerID, pipeline: r.pipelineID, stage: r.stageID, status: opportunity.Status(r.status),
		category: pipelinedef.Category(r.category), closeDate: r.closeDate, closedOn: r.closedOn, currency: r.currency,
		amount: units{r.amountUnits, int32(r.amountNanos)}, probability: int32(r.probability)}
}

func (w *writer) lookup(tenant, id string) (*stored, error) {
	st, err := w.stmt(`SELECT pk, version, hist_version, hist_from, ` + strings.Join(oppRowColumns, ", ") +
		` FROM opportunities WHERE tenant = ? AND id = ?`)
	if err != nil {
		return nil, err
	}
	var s stored
	var fcDay, fcMonth sql.NullString
	var fcCategory sql.NullInt64
	r := &s.row
	err = st.QueryRowContext(w.ctx, tenant, id).Scan(&s.pk, &s.version, &s.histVersion, &s.histFrom,
		&r.pipelineID, &r.stageID, &r.ownerID, &r.accountID, &r.campaignID, &r.status, &r.category,
		&r.closeDate, &r.closedOn, &r.currency, &r.amountUnits, &r.amountNanos, &r.probability, &fcDay, &fcMonth, &fcCategory,
		&r.weightedUnits, &r.weightedNanos, &r.createdAt, &r.updatedAt, &r.tags)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read opportunity %s: %w", id, err)
	}
	r.fcDay, r.fcMonth = nullString(fcDay), nullString(fcMonth)
	if fcCategory.Valid {
		r.fcCategory = fcCategory.Int64
	}
	return &s, nil
}

// openRow is the history row of an opportunity whose interval is open while Apply walks the
// batch's versions.
type openRow struct {
	histPoint
	inDB     bool  // stored by an earlier batch
	closedAt int64 // for a stored row: where it is closed, 0 while it is current
}

func (w *writer) opportunity(o *oppWrite) error {
	old, err := w.lookup(o.tenant, o.id)
	if err != nil {
		return err
	}
	points := o.points
	floor := int64(0)
	if old != nil {
		if old.version >= o.version {
			return nil // redelivery
		}
		i, _ := slices.BinarySearchFunc(points, old.version+1, func(p histPoint, v int64) int { return cmp.Compare(p.version, v) })
		points = points[i:]
		floor = old.histFrom
	}
	points = visible(points, floor)

	var open *openRow
	if old != nil {
		open = &openRow{histPoint: histPoint{version: old.histVersion, from: old.histFrom, f: old.facts()}, inDB: true}
		if points[0].from == old.histFrom {
			// The stored current version lasted no time: the log never showed it. Its
			// predecessor, closed at that instant, is the open row again.
			if open, err = w.dropCurrent(o, open); err != nil {
				return err
			}
		}
	}
	for _, p := range points {
		if open != nil && p.f == open.f {
			continue
		}
		if open != nil {
			if err := w.closeRow(o, open, p.from); err != nil {
				return err
			}
		}
		open = &openRow{histPoint: p}
	}
	switch {
	case !open.inDB:
		err = w.insertHistory(o.tenant, o.id, open.histPoint, currentLevel, 0, forever)
	case open.closedAt != 0:
		_, err = w.exec(`UPDATE opportunity_history SET lvl = ?, bkt = 0, valid_to = ?
			WHERE tenant = ? AND opportunity_id = ? AND version = ?`, currentLevel, int64(forever), o.tenant, o.id, open.version)
		err = wrapErr("reopen history row", err)
	}
	if err != nil {
		return err
	}
	if old == nil {
		return w.insertOpportunity(o, open)
	}
	return w.updateOpportunity(o, old, open)
}

// visible returns the versions as the log showed them: recorded times made non-decreasing from
// floor (a clock that stepped back must not date version n+1 before version n, which the log
// cannot have known first), and of versions recorded in the same instant only the last (the
// others were never visible at any instant).
func visible(points []histPoint, floor int64) []histPoint {
	out := make([]histPoint, 0, len(points))
	for _, p := range points {
		p.from = max(p.from, floor)
		floor = p.from
		if n := len(out); n > 0 && out[n-1].from == p.from {
			out[n-1] = p
			continue
		}
		out = append(out, p)
	}
	return out
}

// dropCurrent deletes the stored current row cur and returns its predecessor (closed where cur
// began), or nil when cur was the first.
func (w *writer) dropCurrent(o *oppWrite, cur *openRow) (*openRow, error) {
	if _, err := w.exec(`DELETE FROM opportunity_history WHERE tenant = ? AND opportunity_id = ? AND version = ?`,
		o.tenant, o.id, cur.version); err != nil {
		return nil, wrapErr("delete history row", err)
	}
	st, err := w.stmt(`SELECT version, valid_from, owner_id, pipeline_id, stage_id, status, forecast_category,
		expected_close_date, closed_on, currency, amount_units, amount_nanos, probability
		FROM opportunity_history WHERE tenant = ? AND opportunity_id = ? AND version < ?
		ORDER BY version DESC LIMIT 1`)
	if err != nil {
		return nil, err
	}
	var r stored
	x := &r.row
	err = st.QueryRowContext(w.ctx, o.tenant, o.id, cur.version).Scan(&r.histVersion, &r.histFrom,
		&x.ownerID, &x.pipelineID, &x.stageID, &x.status, &x.category, &x.closeDate, &x.closedOn, &x.currency,
		&x.amountUnits, &x.amountNanos, &x.probability)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrapErr("read history row", err)
	}
	return &openRow{histPoint: histPoint{version: r.histVersion, from: r.histFrom, f: r.facts()}, inDB: true,
		closedAt: cur.from}, nil
}

// closeRow ends the open row at to (> its start) and files it in its window.
func (w *writer) closeRow(o *oppWrite, r *openRow, to int64) error {
	lvl, bkt := window(r.from, to)
	switch {
	case !r.inDB:
		return w.insertHistory(o.tenant, o.id, r.histPoint, lvl, bkt, to)
	case r.closedAt == to:
		return nil // a predecessor of a dropped row, closed there already
	}
	_, err := w.exec(`UPDATE opportunity_history SET lvl = ?, bkt = ?, valid_to = ?
		WHERE tenant = ? AND opportunity_id = ? AND version = ?`, lvl, bkt, to, o.tenant, o.id, r.version)
	return wrapErr("close history row", err)
}

func (w *writer) insertHistory(tenant, id string, p histPoint, lvl, bkt, to int64) error {
	f, c := p.f, p.c
	_, err := w.exec(`INSERT INTO opportunity_history (tenant, lvl, bkt, valid_from, opportunity_id, version,
		valid_to, owner_id, pipeline_id, stage_id, status, forecast_category, expected_close_date, closed_on,
		currency, amount_units, amount_nanos, probability, fc_day, fc_month, fc_category, weighted_units, weighted_nanos)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		tenant, lvl, bkt, p.from, id, p.version, to, f.owner, f.pipeline, f.stage, int64(f.status), int64(f.category),
		f.closeDate, f.closedOn, f.currency, f.amount.units, int64(f.amount.nanos), int64(f.probability),
		c.dayValue(), c.monthValue(), c.categoryValue(), c.weighted.units, int64(c.weighted.nanos))
	return wrapErr("insert history row", err)
}

func (w *writer) insertOpportunity(o *oppWrite, open *openRow) error {
	cols := append([]string{"tenant", "id"}, oppRowColumns...)
	cols = append(cols, "version", "seq", "hist_version", "hist_from", "doc")
	args := append([]any{o.tenant, o.id}, o.row.values()...)
	args = append(args, o.version, o.seq, open.version, open.from, o.doc)
	res, err := w.exec(`INSERT INTO opportunities (`+strings.Join(cols, ", ")+`) VALUES (`+placeholders(len(cols))+`)`, args...)
	if err != nil {
		return wrapErr("insert opportunity", err)
	}
	pk, err := res.LastInsertId()
	if err != nil {
		return wrapErr("insert opportunity", err)
	}
	for _, tag := range o.tags {
		if _, err := w.exec(`INSERT OR IGNORE INTO opportunity_tags (tenant, tag, opp_pk) VALUES (?, ?, ?)`, o.tenant, tag, pk); err != nil {
			return wrapErr("insert tag", err)
		}
	}
	return nil
}

// updateOpportunity sets only the columns that changed: SQLite rewrites the entry of every
// index whose column is in the SET list, changed or not, and opportunities has ten.
func (w *writer) updateOpportunity(o *oppWrite, old *stored, open *openRow) error {
	var set []string
	var args []any
	newVals, oldVals := o.row.values(), old.row.values()
	for i, c := range oppRowColumns {
		if newVals[i] != oldVals[i] {
			set = append(set, c+" = ?")
			args = append(args, newVals[i])
		}
	}
	set = append(set, "version = ?", "seq = ?", "hist_version = ?", "hist_from = ?", "doc = ?")
	args = append(args, o.version, o.seq, open.version, open.from, o.doc, old.pk)
	if _, err := w.exec(`UPDATE opportunities SET `+strings.Join(set, ", ")+` WHERE pk = ?`, args...); err != nil {
		return wrapErr("update opportunity", err)
	}
	if o.row.tags == old.row.tags {
		return nil
	}
	var before []string
	if old.row.tags != "" {
		before = strings.Split(old.row.tags, tagSep)
	}
	for _, tag := range before {
		if !slices.Contains(o.tags, tag) {
			if _, err := w.exec(`DELETE FROM opportunity_tags WHERE tenant = ? AND tag = ? AND opp_pk = ?`, o.tenant, tag, old.pk); err != nil {
				return wrapErr("delete tag", err)
			}
		}
	}
	for _, tag := range o.tags {
		if !slices.Contains(before, tag) {
			if _, err := w.exec(`INSERT OR IGNORE INTO opportunity_tags (tenant, tag, opp_pk) VALUES (?, ?, ?)`, o.tenant, tag, old.pk); err != nil {
				return wrapErr("insert tag", err)
			}
		}
	}
	return nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
