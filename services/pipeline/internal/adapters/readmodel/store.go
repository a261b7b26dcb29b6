package readmodel

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"sync"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is the pipeline read model. It is safe for concurrent use: one writer (the projector,
// through Apply and Reset) and any number of readers, which never wait for the writer.
type Store struct {
	// ReadModel promotes the database's Checkpoint, Applied, WaitFor and Close.
	sqlitemodel.ReadModel
	db *sqlitemodel.DB

	statsMu     sync.Mutex
	changes     int // applied since Open
	nextAnalyze int // changes at which the statistics are refreshed next
}

// Open opens (creating if needed) the read model at path and migrates its schema. path ""
// gives an ephemeral store in a temporary directory that Close removes.
func Open(ctx context.Context, path string, opts sqlitemodel.Options) (*Store, error) {
	db, err := sqlitemodel.OpenDir(ctx, path, migrationFiles, "migrations", opts)
	if err != nil {
		return nil, fmt.Errorf("readmodel: open: %w", err)
	}
	return &Store{ReadModel: db, db: db, nextAnalyze: analyzeAfter}, nil
}

// analyzeAfter is how many applied changes the first refresh of the query planner's
// statistics waits for; each later one waits until the changes since Open have doubled. A
// rebuild fills an empty database, and without statistics SQLite may prefer sorting a range of
// one index to walking another in order (measured: 30-100 ms instead of 1-5 ms per list page
// at 200,000 opportunities). sqlitemodel.Open refreshes them too.
const analyzeAfter = 10_000

// changed counts applied changes and refreshes the statistics when due. ANALYZE samples
// (analysis_limit): about 0.1 s at 200,000 opportunities and 2,000,000 history rows.
func (s *Store) changed(ctx context.Context, n int) {
	s.statsMu.Lock()
	s.changes += n
	due := s.changes >= s.nextAnalyze
	if due {
		s.nextAnalyze = 2 * s.changes
	}
	s.statsMu.Unlock()
	if !due {
		return
	}
	// Statistics only steer the planner: a failed refresh costs speed, not correctness, and
	// the next one is due soon, so the error is dropped.
	_ = s.db.Write(ctx, func(tx *sql.Tx) (map[string]uint64, error) {
		for _, q := range []string{`PRAGMA analysis_limit = 400`, `ANALYZE`, `PRAGMA analysis_limit = 0`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
}

// Reset empties the read model and its checkpoints, so the projector rebuilds it from the
// start of the stream.
func (s *Store) Reset(ctx context.Context) error { return s.db.Reset(ctx) }

// ErrClosed is returned by a closed store.
var ErrClosed = sqlitemodel.ErrClosed

// ErrBadChange is returned by Apply for a batch it cannot store (an empty stream, tenant or id,
// versions out of order, an amount the wire form cannot hold); nothing of the batch is stored.
var ErrBadChange = errors.New("readmodel: invalid change")

// Page sizes of the List methods.
const (
	// DefaultPageSize is the page size when a query gives 0 (ListOpportunities, ListContracts).
	DefaultPageSize = 50
	// DefaultPipelinePageSize is ListPipelines' page size when it is given 0.
	DefaultPipelinePageSize = 100
	// MaxPageSize is the largest page any List returns.
	MaxPageSize = 1000
)

func checkPageSize(n, def int) (int, error) {
	switch {
	case n == 0:
		return def, nil
	case n < 0 || n > MaxPageSize:
		return 0, apperr.InvalidFields("invalid page size",
			apperr.FieldViolation{Field: "page_size", Description: fmt.Sprintf("must be between 1 and %d", MaxPageSize)})
	}
	return n, nil
}

func errBadPageToken() error {
	return apperr.InvalidFields("invalid page token", apperr.FieldViolation{Field: "page_token",
		Description: "is malformed or belongs to another query (filters and order must not change between pages)"})
}
