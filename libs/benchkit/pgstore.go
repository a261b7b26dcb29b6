// Package benchkit holds what the benchmarks compare evcrm with: a PostgreSQL event store (the
// usual alternative, as most open-source CRMs and event stores such as Marten build on it) and
// the command-path scenario that runs a service's command next to raw JetStream publishes and
// PostgreSQL appends of the same payload, in the same run (see docs/benchmarks.md).
package benchkit

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrConflict is returned by PGStore.Append when the aggregate is no longer at the expected
// version: another writer appended first.
var ErrConflict = errors.New("benchkit: concurrency conflict")

// ErrDuplicate is returned by PGStore.Append when an event id is already stored: the command
// was retried after its append succeeded.
var ErrDuplicate = errors.New("benchkit: duplicate event id")

// PGStore is a minimal event store on PostgreSQL, built the way such stores are: one table of
// events with a global position, a unique (aggregate, version) for optimistic concurrency and a
// unique event id for idempotency, and an append that is one transaction per command.
type PGStore struct {
	pool *pgxpool.Pool
}

// PGEvent is one event to append.
type PGEvent struct {
	// ID is the event's unique id (evcrm's event id; a retried command reuses it).
	ID string
	// Type is the event type, e.g. "crm.leads.v1.LeadCreated".
	Type string
	// Payload is the serialized event (evcrm's envelope bytes in the benchmarks).
	Payload []byte
}

// pgSchema is the events table. seq is the global order (what JetStream's stream sequence is to
// evcrm), the unique (tenant, aggregate, version) is the optimistic-concurrency check and the
// unique event_id the idempotency check (what JetStream's Nats-Msg-Id dedupe is).
const pgSchema = `
CREATE TABLE IF NOT EXISTS events (
	seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id      text        NOT NULL,
	aggregate_type text        NOT NULL,
	aggregate_id   text        NOT NULL,
	version        bigint      NOT NULL,
	event_id       text        NOT NULL UNIQUE,
	type           text        NOT NULL,
	recorded_at    timestamptz NOT NULL DEFAULT now(),
	payload        bytea       NOT NULL,
	UNIQUE (tenant_id, aggregate_type, aggregate_id, version)
)`

// NewPGStore creates the events table if it does not exist.
func NewPGStore(ctx context.Context, pool *pgxpool.Pool) (*PGStore, error) {
	if _, err := pool.Exec(ctx, pgSchema); err != nil {
		return nil, fmt.Errorf("benchkit: create events table: %w", err)
	}
	return &PGStore{pool: pool}, nil
}

// Reset empties the events table (between the benchmark's runs).
func (s *PGStore) Reset(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, "TRUNCATE events")
	return err
}

// Append writes events at versions expected+1, expected+2, ... of the aggregate in one
// transaction: a single multi-row INSERT, so one round trip and one commit (and, with
// synchronous_commit = on, one WAL flush) per command. A unique violation on the version means
// another writer got there first: ErrConflict. It returns the aggregate's new version.
func (s *PGStore) Append(ctx context.Context, tenant, aggType, aggID string, expected int64, events ...PGEvent) (int64, error) {
	if len(events) == 0 {
		return expected, nil
	}
	q := "INSERT INTO events (tenant_id, aggregate_type, aggregate_id, version, event_id, type, payload) VALUES "
	args := make([]any, 0, 3+4*len(events))
	args = append(args, tenant, aggType, aggID)
	for i, e := range events {
		if i > 0 {
			q += ", "
		}
		n := len(args)
		q += fmt.Sprintf("($1, $2, $3, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4)
		payload := e.Payload
		if payload == nil {
			payload = []byte{} // pgx sends a nil slice as NULL
		}
		args = append(args, expected+int64(i)+1, e.ID, e.Type, payload)
	}
	if _, err := s.pool.Exec(ctx, q, args...); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
			if pgErr.ConstraintName == "events_event_id_key" {
				return expected, ErrDuplicate
			}
			return expected, ErrConflict
		}
		return expected, fmt.Errorf("benchkit: append: %w", err)
	}
	return expected + int64(len(events)), nil
}

// Version is the aggregate's current version (0 when it has no events).
func (s *PGStore) Version(ctx context.Context, tenant, aggType, aggID string) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM events WHERE tenant_id = $1 AND aggregate_type = $2 AND aggregate_id = $3",
		tenant, aggType, aggID).Scan(&v)
	return v, err
}
