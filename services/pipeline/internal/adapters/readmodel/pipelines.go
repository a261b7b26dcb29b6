package readmodel

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

func (w *writer) pipeline(p *docWrite) error {
	_, err := w.exec(`INSERT INTO pipelines (tenant, id, archived, version, seq, doc) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant, id) DO UPDATE SET archived = excluded.archived, version = excluded.version,
			seq = excluded.seq, doc = excluded.doc
		WHERE excluded.version > pipelines.version`, p.tenant, p.id, p.archived, p.version, p.seq, p.doc)
	return wrapErr("upsert pipeline", err)
}

// GetPipeline returns the pipeline's folded state. The built-in default pipeline exists in
// every tenant without events: while it has none, GetPipeline returns pipelinedef.New
// ("default"), whose Effective is pipelinedef.Default(). Any other unknown id is an apperr
// NotFound error.
func (s *Store) GetPipeline(ctx context.Context, tenant, id string) (pipelinedef.State, error) {
	var doc []byte
	err := s.db.R.QueryRowContext(ctx, `SELECT doc FROM pipelines WHERE tenant = ? AND id = ?`, tenant, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		if id == pipelinedef.DefaultID {
			return pipelinedef.New(id), nil
		}
		return pipelinedef.State{}, &apperr.Error{Kind: apperr.NotFound, Reason: pipelinedef.ReasonNotFound,
			Message: fmt.Sprintf("pipeline %q not found", id)}
	}
	if err != nil {
		return pipelinedef.State{}, readErr("get pipeline", err)
	}
	return decodeDoc[pipelinedef.State](doc)
}

// ListPipelines returns one page of the tenant's pipelines ordered by id, archived ones only
// when includeArchived, and the next page's token ("" on the last page). The built-in default
// pipeline is listed (as pipelinedef.New("default")) while it has no events. pageSize is
// 1…MaxPageSize, or 0 for DefaultPipelinePageSize.
func (s *Store) ListPipelines(ctx context.Context, tenant string, includeArchived bool, pageSize int, pageToken string) ([]pipelinedef.State, string, error) {
	size, err := checkPageSize(pageSize, DefaultPipelinePageSize)
	if err != nil {
		return nil, "", err
	}
	var h fingerprint
	h.Str(tenant)
	h.Str(strconv.FormatBool(includeArchived))
	hash := h.Sum()
	cur, err := decodeCursor(pageToken, "p", hash)
	if err != nil {
		return nil, "", err
	}
	after := ""
	if cur != nil {
		after = cur.ID
	}
	// One read transaction, so the page and "does default have events" see the same snapshot.
	tx, err := s.db.R.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, "", readErr("list pipelines", err)
	}
	defer func() { _ = tx.Rollback() }()
	rows, err := tx.QueryContext(ctx, `SELECT doc FROM pipelines WHERE tenant = ? AND id > ? AND (? OR archived = 0)
		ORDER BY id LIMIT ?`, tenant, after, includeArchived, size+1)
	if err != nil {
		return nil, "", readErr("list pipelines", err)
	}
	defer rows.Close()
	var out []pipelinedef.State
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, "", readErr("list pipelines", err)
		}
		st, err := decodeDoc[pipelinedef.State](doc)
		if err != nil {
			return nil, "", err
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, "", readErr("list pipelines", err)
	}
	if pipelinedef.DefaultID > after {
		var recorded bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pipelines WHERE tenant = ? AND id = ?)`,
			tenant, pipelinedef.DefaultID).Scan(&recorded); err != nil {
			return nil, "", readErr("list pipelines", err)
		}
		if !recorded {
			i, _ := slices.BinarySearchFunc(out, pipelinedef.DefaultID, func(st pipelinedef.State, id string) int { return cmp.Compare(st.ID, id) })
			out = slices.Insert(out, i, pipelinedef.New(pipelinedef.DefaultID))
		}
	}
	if len(out) <= size {
		return out, "", nil
	}
	out = out[:size]
	return out, cursor{Kind: "p", Hash: hash, ID: out[size-1].ID}.encode(), nil
}
