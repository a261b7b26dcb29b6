// Package chschema holds the analytics tables' schema: versioned migrations as embedded .sql
// files (migrations/NNNN_name.sql, applied in version order) and the runner that applies them
// at start and records them in schema_migrations.
//
// The files name no database: they run in the connection's current database, so the projector,
// a rebuild's staging database and tools/chcompat (ClickHouse 26.x through chDB) all run the same
// files. Every statement must also run on ClickHouse 18.16 (DESIGN.md §5). Each CREATE says
// IF NOT EXISTS, so a migration that was applied but not recorded (a crash in between, or two
// replicas starting at once) applies again harmlessly.
package chschema

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

//go:embed migrations/*.sql
var files embed.FS

// Migration is one .sql file.
type Migration struct {
	// Version is the file name's number; 0 is schema_migrations itself, applied every time.
	Version uint32
	// Name is the file name without the number and extension.
	Name string
	// Statements are the file's statements, split with Split.
	Statements []string
	// Rebuild is set by a line "-- evcrm:rebuild" in the file: the migration changes what the
	// projector writes into rows that exist already (a new folded column, say), so data
	// projected before it is only right again after a rebuild from the streams.
	Rebuild bool
}

// rebuildRE is the marker line of a migration that asks for a rebuild.
var rebuildRE = regexp.MustCompile(`(?m)^\s*--\s*evcrm:rebuild\s*$`)

var fileRE = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	names, err := fs.Glob(files, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	out := make([]Migration, 0, len(names))
	seen := map[uint32]string{}
	for _, n := range names {
		base := path.Base(n)
		m := fileRE.FindStringSubmatch(base)
		if m == nil {
			return nil, fmt.Errorf("chschema: migration file %s is not named NNNN_name.sql", base)
		}
		v, _ := strconv.ParseUint(m[1], 10, 32)
		if prev, dup := seen[uint32(v)]; dup {
			return nil, fmt.Errorf("chschema: migrations %s and %s share version %d", prev, base, v)
		}
		seen[uint32(v)] = base
		body, err := fs.ReadFile(files, n)
		if err != nil {
			return nil, err
		}
		stmts := Split(string(body))
		if len(stmts) == 0 {
			return nil, fmt.Errorf("chschema: migration %s holds no statement", base)
		}
		out = append(out, Migration{Version: uint32(v), Name: m[2], Statements: stmts,
			Rebuild: rebuildRE.Match(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

var createRE = regexp.MustCompile(`(?i)^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z0-9_]+)`)

// Tables lists the tables the migrations create, schema_migrations excepted: the ones a rebuild
// fills and swaps.
func Tables() ([]string, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range ms {
		for _, s := range m.Statements {
			if t := createRE.FindStringSubmatch(s); t != nil && t[1] != "schema_migrations" && !contains(out, t[1]) {
				out = append(out, t[1])
			}
		}
	}
	return out, nil
}

// Derived are the tables the projector does not write: the snapshots of the current state
// (migration 0013, package chsnapshot), copies of other tables. They are plain MergeTree
// tables (no FINAL), and a rebuild starts them empty.
var Derived = map[string]bool{"leads_snapshot": true, "opportunities_snapshot": true, "snapshots": true}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Split cuts a .sql file into statements by the rule tools/chcompat uses (its README): a line
// whose first non-blank characters are "--" is a comment and is dropped; a statement ends on a
// line whose last non-blank character is ";" (which is dropped); text after the last such line
// is a last statement; statements of only blanks are skipped. 18.16's native protocol takes one
// statement per query, so each is sent on its own.
func Split(sql string) []string {
	var out []string
	var cur []string
	flush := func() {
		s := strings.TrimSpace(strings.Join(cur, "\n"))
		if s != "" {
			out = append(out, s)
		}
		cur = cur[:0]
	}
	for _, line := range strings.Split(sql, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "--") {
			continue
		}
		if strings.HasSuffix(t, ";") {
			cur = append(cur, strings.TrimSuffix(strings.TrimRight(line, " \t\r"), ";"))
			flush()
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return out
}

// EnsureDatabase creates database unless it exists. conn may use any database.
func EnsureDatabase(ctx context.Context, conn driver.Conn, database string) error {
	return EnsureDatabaseWith(ctx, conn, database, Options{})
}

// EnsureDatabaseWith is EnsureDatabase in the schema mode o: in cluster mode the database is
// created on every node (ON CLUSTER), unless the connected node has it already (an ON CLUSTER
// statement waits for every node, so a node that is down would hold up every start).
func EnsureDatabaseWith(ctx context.Context, conn driver.Conn, database string, o Options) error {
	if !identRE.MatchString(database) {
		return fmt.Errorf("chschema: database name %q must match %s", database, identRE)
	}
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Clustered() {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = ?", database).Scan(&n); err != nil {
			return fmt.Errorf("chschema: look for database %s: %w", database, err)
		}
		if n > 0 {
			return nil
		}
	}
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+database+o.OnCluster()); err != nil {
		return fmt.Errorf("chschema: create database %s: %w", database, err)
	}
	return nil
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Result is what Migrate did.
type Result struct {
	// Applied are the versions it applied, in order.
	Applied []uint32
	// NeedsRebuild is set when it applied a migration marked "evcrm:rebuild" to a database that
	// had tables from earlier migrations: the rows already there must be projected again.
	NeedsRebuild bool
}

// Migrate applies the migrations not yet recorded in schema_migrations of conn's current
// database, in version order, recording each after it applied.
func Migrate(ctx context.Context, conn driver.Conn) (Result, error) {
	return MigrateWith(ctx, conn, Options{})
}

// MigrateWith is Migrate in the schema mode o (see Options for the cluster mode). In cluster
// mode, the statements run ON CLUSTER: every node must be up while a migration applies (the
// statements wait for all of them, up to the servers' distributed_ddl_task_timeout), but a
// start that finds nothing to apply runs no ON CLUSTER statement.
func MigrateWith(ctx context.Context, conn driver.Conn, o Options) (Result, error) {
	var res Result
	ms, err := Migrations()
	if err != nil {
		return res, err
	}
	if err := o.Validate(); err != nil {
		return res, err
	}
	a := applier{conn: conn}
	if o.Clustered() {
		a.opts, a.token = o, newToken()
		if a.database, err = currentDatabase(ctx, conn); err != nil {
			return res, err
		}
	}
	// Version 0 creates schema_migrations; it is idempotent and runs every time so the table
	// can be read below (in cluster mode only while the connected node lacks it).
	ledger := true
	if o.Clustered() {
		if ledger, err = tableExists(ctx, conn, LedgerTable); err != nil {
			return res, err
		}
		ledger = !ledger
	}
	if ledger {
		if err := a.apply(ctx, ms[0]); err != nil {
			return res, err
		}
	}
	done, err := Applied(ctx, conn)
	if err != nil {
		return res, err
	}
	// A database with tables of earlier migrations holds projected rows; a fresh one does not,
	// and its projection starts from the streams' beginning anyway.
	existing := false
	for v := range done {
		existing = existing || v > 0
	}
	for _, m := range ms {
		if done[m.Version] {
			continue
		}
		if err := a.apply(ctx, m); err != nil {
			return res, err
		}
		if err := record(ctx, conn, m); err != nil {
			return res, err
		}
		res.Applied = append(res.Applied, m.Version)
		res.NeedsRebuild = res.NeedsRebuild || (m.Rebuild && existing)
	}
	return res, nil
}

// Applied returns the versions recorded in conn's database.
func Applied(ctx context.Context, conn driver.Conn) (map[uint32]bool, error) {
	rows, err := conn.Query(ctx, "SELECT DISTINCT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("chschema: read schema_migrations: %w", err)
	}
	defer rows.Close()
	out := map[uint32]bool{}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("chschema: read schema_migrations: %w", err)
		}
		out[v] = true
	}
	return out, rows.Err()
}

// applier runs migrations' statements: as they are, or rewritten for a cluster (opts set).
type applier struct {
	conn driver.Conn
	// opts, database and token are set in cluster mode (Options.ClusterStatements).
	opts            Options
	database, token string
}

func (a applier) apply(ctx context.Context, m Migration) error {
	for i, s := range m.Statements {
		stmts := []string{s}
		if a.opts.Clustered() {
			var err error
			if stmts, err = a.opts.ClusterStatements(a.database, a.token, s); err != nil {
				return fmt.Errorf("chschema: migration %04d_%s statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		for _, s := range stmts {
			if err := a.conn.Exec(ctx, s); err != nil {
				if addColumnRE.MatchString(s) && columnExists(err) {
					// Applied before its record was written (a crash in between, or two
					// replicas starting at once): 18.16 has no ADD COLUMN IF NOT EXISTS, and
					// an ALTER's commands apply together, so "already exists" means this
					// statement is done.
					continue
				}
				return fmt.Errorf("chschema: migration %04d_%s statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
	}
	return nil
}

// addColumnRE matches an ALTER ... ADD COLUMN, also in its cluster form (a database-qualified
// table and ON CLUSTER).
var addColumnRE = regexp.MustCompile(`(?is)^\s*ALTER\s+TABLE\s+\S+\s+(?:ON\s+CLUSTER\s+\S+\s+)?ADD\s+COLUMN\s`)

// columnExists tells ClickHouse's "Cannot add column x: column with this name already exists"
// (code 44, ILLEGAL_COLUMN, which other mistakes share: hence the message check).
func columnExists(err error) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) && ex.Code == 44 && strings.Contains(ex.Message, "already exists")
}

func record(ctx context.Context, conn driver.Conn, m Migration) error {
	b, err := conn.PrepareBatch(ctx, "INSERT INTO schema_migrations (version, name, applied_at)")
	if err != nil {
		return fmt.Errorf("chschema: record %04d: %w", m.Version, err)
	}
	if err := b.Append(m.Version, m.Name, time.Now().UTC()); err != nil {
		return fmt.Errorf("chschema: record %04d: %w", m.Version, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("chschema: record %04d: %w", m.Version, err)
	}
	return nil
}
