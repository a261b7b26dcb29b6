package pgquery

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Tables are the tables of schema.sql, in load order: the current-state tables, then the fact
// tables the metrics read.
var Tables = []string{"leads", "opportunities", "campaigns", "members", "contacts",
	"stage_transitions", "responses", "costs", "conversions"}

// DB is the part of a pgx connection or pool Load needs (*pgxpool.Pool, *pgx.Conn).
type DB interface {
	Querier
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// LoadStats says what Load did.
type LoadStats struct {
	// Rows is the number of rows copied per table.
	Rows map[string]int64
	// Copy is the time of the copies (reading ClickHouse and COPY into PostgreSQL), Index the
	// time of indexes.sql (secondary indexes and ANALYZE).
	Copy, Index time.Duration
}

// Load creates the tables of schema.sql in pg (which must not have them yet) and fills them with
// the current state of ClickHouse's tables read through ch: SELECT … FINAL, so every entity is
// one row (its latest by seq) and every fact one row however often it was projected, which is
// what a CRM keeping its state in PostgreSQL would hold. Rows are streamed with COPY (pgx
// CopyFrom), then indexes.sql builds the secondary indexes and runs ANALYZE.
func Load(ctx context.Context, ch driver.Conn, pg DB) (LoadStats, error) {
	st := LoadStats{Rows: map[string]int64{}}
	schema, err := SQL("schema.sql")
	if err != nil {
		return st, fmt.Errorf("pgquery: %w", err)
	}
	if _, err := pg.Exec(ctx, schema); err != nil {
		return st, fmt.Errorf("pgquery: schema: %w", err)
	}
	start := time.Now()
	for _, t := range Tables {
		n, err := copyTable(ctx, ch, pg, t)
		if err != nil {
			return st, err
		}
		st.Rows[t] = n
	}
	st.Copy = time.Since(start)
	indexes, err := SQL("indexes.sql")
	if err != nil {
		return st, fmt.Errorf("pgquery: %w", err)
	}
	start = time.Now()
	if _, err := pg.Exec(ctx, indexes); err != nil {
		return st, fmt.Errorf("pgquery: indexes: %w", err)
	}
	st.Index = time.Since(start)
	return st, nil
}

// copyTable copies one table: the columns of the PostgreSQL table, by name, from ClickHouse.
func copyTable(ctx context.Context, ch driver.Conn, pg DB, table string) (int64, error) {
	rows, err := pg.Query(ctx, "SELECT column_name FROM information_schema.columns "+
		"WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position", table)
	if err != nil {
		return 0, fmt.Errorf("pgquery: columns of %s: %w", table, err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("pgquery: columns of %s: %w", table, err)
	}
	src, err := ch.Query(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+table+" FINAL")
	if err != nil {
		return 0, fmt.Errorf("pgquery: read %s from ClickHouse: %w", table, err)
	}
	defer src.Close()
	n, err := pg.CopyFrom(ctx, pgx.Identifier{table}, cols, newCHSource(src))
	if err != nil {
		return n, fmt.Errorf("pgquery: copy %s: %w", table, err)
	}
	return n, nil
}

// chSource streams ClickHouse rows into COPY, converting each value to what the PostgreSQL
// column takes.
type chSource struct {
	rows  driver.Rows
	dates []bool // the ClickHouse column is a Date (not a DateTime)
	ptrs  []any
	vals  []any
	err   error
}

func newCHSource(rows driver.Rows) *chSource {
	types := rows.ColumnTypes()
	s := &chSource{rows: rows, dates: make([]bool, len(types)), ptrs: make([]any, len(types)),
		vals: make([]any, len(types))}
	for i, c := range types {
		s.dates[i] = c.DatabaseTypeName() == "Date"
		s.ptrs[i] = reflect.New(c.ScanType()).Interface()
	}
	return s
}

func (s *chSource) Next() bool {
	if s.err != nil || !s.rows.Next() {
		return false
	}
	if err := s.rows.Scan(s.ptrs...); err != nil {
		s.err = err
		return false
	}
	for i, p := range s.ptrs {
		switch v := reflect.ValueOf(p).Elem().Interface().(type) {
		case time.Time:
			if s.dates[i] {
				// clickhouse-go returns a Date as midnight in the server's time zone: the
				// date is its wall clock, not its instant.
				v = time.Date(v.Year(), v.Month(), v.Day(), 0, 0, 0, 0, time.UTC)
			}
			s.vals[i] = v.UTC()
		case uint8:
			s.vals[i] = int16(v)
		case uint32:
			s.vals[i] = int64(v)
		case uint64:
			if v > 1<<63-1 {
				s.err = fmt.Errorf("value %d of column %d does not fit a bigint", v, i)
				return false
			}
			s.vals[i] = int64(v)
		default:
			s.vals[i] = v
		}
	}
	return true
}

func (s *chSource) Values() ([]any, error) { return s.vals, nil }

func (s *chSource) Err() error {
	if s.err != nil {
		return s.err
	}
	return s.rows.Err()
}
