// Package rulemodel is the read model of automation rules and their run log, in SQLite
// (libs/sqlitemodel): the rules' current state for the queries and the engine, and one row per
// rule run. ruleview keeps it current from the CRM_CAMPAIGN stream.
package rulemodel

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/pagetoken"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is the rules read model: one writer (the projector, through Apply) and any number of
// readers.
type Store struct {
	// ReadModel promotes the database's Checkpoint, Applied, WaitFor and Close.
	sqlitemodel.ReadModel
	db *sqlitemodel.DB
}

// Open opens (creating if needed) the read model at path; "" gives an ephemeral one.
func Open(ctx context.Context, path string, opts sqlitemodel.Options) (*Store, error) {
	db, err := sqlitemodel.OpenDir(ctx, path, migrationFiles, "migrations", opts)
	if err != nil {
		return nil, fmt.Errorf("rulemodel: open: %w", err)
	}
	return &Store{ReadModel: db, db: db}, nil
}

// RunRow is one run to store.
type RunRow struct {
	Tenant, RunID string
	Seq           uint64
	Run           rule.Run
}

// Batch is what one projector batch changes.
type Batch struct {
	// Rules are the new states, keyed by tenant in Tenants (same index).
	Rules   []rule.Rule
	Tenants []string
	Runs    []RunRow
}

// Apply stores a batch with the stream's checkpoint in one transaction. A rule row only moves
// forward in version; a run is stored once.
func (s *Store) Apply(ctx context.Context, stream string, seq uint64, b Batch) error {
	return s.db.Write(ctx, func(tx *sql.Tx) (map[string]uint64, error) {
		for i, r := range b.Rules {
			body, err := json.Marshal(r)
			if err != nil {
				return nil, err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO rules (tenant, id, version, event_type, enabled, deleted, body)
				VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (tenant, id) DO UPDATE SET version = excluded.version, event_type = excluded.event_type,
					enabled = excluded.enabled, deleted = excluded.deleted, body = excluded.body
				WHERE excluded.version > rules.version`,
				b.Tenants[i], r.ID, r.Version, r.EventType, r.Enabled, r.Deleted, string(body)); err != nil {
				return nil, fmt.Errorf("rulemodel: store rule: %w", err)
			}
		}
		for _, r := range b.Runs {
			body, err := json.Marshal(r.Run)
			if err != nil {
				return nil, err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO rule_runs (tenant, run_id, rule_id, seq, outcome, body)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				r.Tenant, r.RunID, r.Run.RuleID, r.Seq, int(r.Run.Outcome), string(body)); err != nil {
				return nil, fmt.Errorf("rulemodel: store run: %w", err)
			}
		}
		return map[string]uint64{stream: seq}, nil
	})
}

// GetRule returns a rule, deleted ones included (the projector folds onto them); callers that
// answer clients check Exists.
func (s *Store) GetRule(ctx context.Context, tenant, id string) (rule.Rule, error) {
	var body string
	err := s.db.R.QueryRowContext(ctx, `SELECT body FROM rules WHERE tenant = ? AND id = ?`, tenant, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return rule.Rule{}, rule.ErrNotFound(id)
	}
	if err != nil {
		return rule.Rule{}, err
	}
	var r rule.Rule
	return r, json.Unmarshal([]byte(body), &r)
}

// TriggeredBy returns the tenant's enabled rules that trigger on eventType.
func (s *Store) TriggeredBy(ctx context.Context, tenant, eventType string) ([]rule.Rule, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT body FROM rules
		WHERE tenant = ? AND event_type = ? AND deleted = 0 AND enabled = 1 ORDER BY id`, tenant, eventType)
	if err != nil {
		return nil, err
	}
	return scanRules(rows)
}

func scanRules(rows *sql.Rows) ([]rule.Rule, error) {
	defer rows.Close()
	var out []rule.Rule
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var r rule.Rule
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Page sizes of the lists.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

func pageSize(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultPageSize, nil
	case n < 0 || n > MaxPageSize:
		return 0, apperr.InvalidFields("invalid page size",
			apperr.FieldViolation{Field: "page_size", Description: fmt.Sprintf("between 0 and %d", MaxPageSize)})
	}
	return n, nil
}

func badToken() error {
	return apperr.InvalidFields("invalid page token", apperr.FieldViolation{Field: "page_token", Description: "malformed, or issued for another query"})
}

// ListRules lists the tenant's rules by id (creation order: ids are UUIDv7).
func (s *Store) ListRules(ctx context.Context, tenant string, enabledOnly bool, size int, token string) ([]rule.Rule, string, error) {
	n, err := pageSize(size)
	if err != nil {
		return nil, "", err
	}
	var fp pagetoken.Fingerprint
	fp.Str(tenant)
	fp.Str(fmt.Sprint(enabledOnly))
	hash := fp.Sum()
	var after string
	if token != "" {
		if ok, err := pagetoken.Decode(token, "rules", hash, &after); err != nil || !ok {
			return nil, "", badToken()
		}
	}
	q := `SELECT body FROM rules WHERE tenant = ? AND deleted = 0 AND id > ?`
	if enabledOnly {
		q += ` AND enabled = 1`
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY id LIMIT ?`, tenant, after, n+1)
	if err != nil {
		return nil, "", err
	}
	rs, err := scanRules(rows)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rs) > n {
		rs = rs[:n]
		next = pagetoken.Encode("rules", hash, rs[n-1].ID)
	}
	return rs, next, nil
}

// RunFilter selects runs.
type RunFilter struct {
	RuleID    string
	Outcomes  []rule.Outcome
	PageSize  int
	PageToken string
}

// ListRuns lists runs newest first.
func (s *Store) ListRuns(ctx context.Context, tenant string, f RunFilter) ([]rule.Run, string, error) {
	n, err := pageSize(f.PageSize)
	if err != nil {
		return nil, "", err
	}
	var fp pagetoken.Fingerprint
	fp.Str(tenant)
	fp.Str(f.RuleID)
	pagetoken.IntSet(&fp, f.Outcomes)
	hash := fp.Sum()
	var before uint64
	if f.PageToken != "" {
		if ok, err := pagetoken.Decode(f.PageToken, "ruleruns", hash, &before); err != nil || !ok {
			return nil, "", badToken()
		}
	}
	q := `SELECT seq, body FROM rule_runs WHERE tenant = ?`
	args := []any{tenant}
	if f.RuleID != "" {
		q += ` AND rule_id = ?`
		args = append(args, f.RuleID)
	}
	if before > 0 {
		q += ` AND seq < ?`
		args = append(args, before)
	}
	if len(f.Outcomes) > 0 {
		q += ` AND outcome IN (` + strings.TrimSuffix(strings.Repeat("?,", len(f.Outcomes)), ",") + `)`
		for _, o := range f.Outcomes {
			args = append(args, int(o))
		}
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY seq DESC LIMIT ?`, append(args, n+1)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []rule.Run
	var seqs []uint64
	for rows.Next() {
		var seq uint64
		var body string
		if err := rows.Scan(&seq, &body); err != nil {
			return nil, "", err
		}
		var r rule.Run
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return nil, "", err
		}
		out, seqs = append(out, r), append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = pagetoken.Encode("ruleruns", hash, seqs[n-1])
	}
	return out, next, nil
}
