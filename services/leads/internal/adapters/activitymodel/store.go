// Package activitymodel is the read model of activities, tasks and record timelines: a SQLite
// database (activities.db, on libs/sqlitemodel) with one row per activity and per record it
// concerns, the current state of every task (indexed for the per-assignee overdue query), and
// the timeline entries of leads, contacts, accounts and opportunities. The projector
// (adapters/activityview) writes it with its checkpoint in the same transaction.
package activitymodel

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"math"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/apperr"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
	"github.com/evcrm/evcrm/services/leads/internal/domain/task"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Page sizes of the list queries.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// noDue is the due_key of a task without a due date: after every real one.
const noDue = math.MaxInt64

// Store is the read model. It is safe for concurrent use: one writer (the projector) and any
// number of readers, which never wait for it.
type Store struct {
	// ReadModel promotes the database's Checkpoint, Applied, WaitFor and Close.
	sqlitemodel.ReadModel
	db *sqlitemodel.DB
}

// Open opens (creating if needed) the read model at path; "" gives an ephemeral store that
// Close removes.
func Open(ctx context.Context, path string, opts sqlitemodel.Options) (*Store, error) {
	db, err := sqlitemodel.OpenDir(ctx, path, migrationFiles, "migrations", opts)
	if err != nil {
		return nil, fmt.Errorf("activitymodel: open: %w", err)
	}
	return &Store{ReadModel: db, db: db}, nil
}

// ActivityRow is an activity to store.
type ActivityRow struct {
	Tenant   string
	Activity activity.Activity
	Seq      uint64
}

// TaskRow is a task's new state.
type TaskRow struct {
	Tenant string
	Task   task.Task
	Seq    uint64
}

// Entry is one timeline entry: something that happened to Record.
type Entry struct {
	Tenant string
	Record activity.RecordRef
	// At is when it happened: an activity's occurred_at, an event's time.
	At time.Time
	// Sequence is the event's stream sequence; (At, Sequence) orders the timeline.
	Sequence  uint64
	EventID   string
	EventType string
	Summary   string
	Actor     string
	// Activity or Task is set for entries about one (as it was after the event).
	Activity *activity.Activity
	Task     *task.Task
	// ConvertedFrom is the lead of a conversion entry on the account, contact or opportunity
	// the lead became: the entry is in a caller's scope on an opportunity's timeline when that
	// lead is.
	ConvertedFrom string
}

// RecordScope is a change of the owner or territory of a lead, account or contact (the
// row-level rules judge activities and tasks by them). Only the fields whose Set flag is true
// change; a record seen for the first time gets "" for the others.
type RecordScope struct {
	Tenant       string
	Record       activity.RecordRef
	Seq          uint64
	SetOwner     bool
	Owner        string
	SetTerritory bool
	Territory    string
}

// Batch is what one projector batch changes.
type Batch struct {
	// Scopes are applied in order.
	Scopes     []RecordScope
	Activities []ActivityRow
	Tasks      []TaskRow
	Entries    []Entry
}

// ErrBadChange is returned by Apply for rows it cannot store; nothing of the batch is stored.
var ErrBadChange = errors.New("activitymodel: invalid change")

// Apply stores a batch with the stream's checkpoint seq, in one transaction. Replaying a
// batch is harmless: rows are keyed, and a task row never goes back to an older version.
func (s *Store) Apply(ctx context.Context, stream string, seq uint64, b Batch) error {
	if stream == "" || seq == 0 {
		return fmt.Errorf("%w: stream and sequence are required", ErrBadChange)
	}
	return s.db.Write(ctx, func(tx *sql.Tx) (map[string]uint64, error) {
		for _, r := range b.Scopes {
			if err := putScope(ctx, tx, r); err != nil {
				return nil, err
			}
		}
		for _, r := range b.Activities {
			if err := putActivity(ctx, tx, r); err != nil {
				return nil, err
			}
		}
		for _, r := range b.Tasks {
			if err := putTask(ctx, tx, r); err != nil {
				return nil, err
			}
		}
		for _, e := range b.Entries {
			if err := putEntry(ctx, tx, e); err != nil {
				return nil, err
			}
		}
		return map[string]uint64{stream: seq}, nil
	})
}

func putScope(ctx context.Context, tx *sql.Tx, r RecordScope) error {
	if r.Tenant == "" || r.Record.ID == "" || !r.Record.Type.Owned() {
		return fmt.Errorf("%w: record scope without tenant, record or of an unowned record type", ErrBadChange)
	}
	// A replayed older event (seq not above the stored one) changes nothing.
	if _, err := tx.ExecContext(ctx, `INSERT INTO record_scope (tenant, record_type, record_id, owner, territory, seq)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant, record_type, record_id) DO UPDATE SET
			owner = CASE WHEN ? THEN excluded.owner ELSE record_scope.owner END,
			territory = CASE WHEN ? THEN excluded.territory ELSE record_scope.territory END,
			seq = excluded.seq
		WHERE excluded.seq > record_scope.seq`,
		r.Tenant, int(r.Record.Type), r.Record.ID, r.Owner, r.Territory, int64(r.Seq), r.SetOwner, r.SetTerritory); err != nil {
		return fmt.Errorf("activitymodel: store record scope: %w", err)
	}
	return nil
}

func putActivity(ctx context.Context, tx *sql.Tx, r ActivityRow) error {
	a := r.Activity
	if r.Tenant == "" || a.ID == "" {
		return fmt.Errorf("%w: activity without tenant or id", ErrBadChange)
	}
	data, err := proto.Marshal(protomap.ActivityToProto(a))
	if err != nil {
		return err
	}
	occurred := a.OccurredAt.UnixNano()
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO activities (tenant, id, kind, logged_by, occurred_at, seq, data)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.Tenant, a.ID, int(a.Kind), a.LoggedBy, occurred, int64(r.Seq), data); err != nil {
		return fmt.Errorf("activitymodel: store activity: %w", err)
	}
	for _, rec := range a.Records {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO activity_records (tenant, record_type, record_id, occurred_at, activity_id)
			VALUES (?, ?, ?, ?, ?)`, r.Tenant, int(rec.Type), rec.ID, occurred, a.ID); err != nil {
			return fmt.Errorf("activitymodel: store activity record: %w", err)
		}
	}
	return nil
}

func dueKey(t task.Task) int64 {
	if t.DueAt.IsZero() {
		return noDue
	}
	return t.DueAt.UnixNano()
}

func putTask(ctx context.Context, tx *sql.Tx, r TaskRow) error {
	t := r.Task
	if r.Tenant == "" || t.ID == "" {
		return fmt.Errorf("%w: task without tenant or id", ErrBadChange)
	}
	data, err := proto.Marshal(protomap.TaskToProto(t))
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO tasks (tenant, id, assignee_id, created_by, status, due_key, record_type, record_id, version, seq, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant, id) DO UPDATE SET assignee_id = excluded.assignee_id, created_by = excluded.created_by, status = excluded.status,
			due_key = excluded.due_key, record_type = excluded.record_type, record_id = excluded.record_id,
			version = excluded.version, seq = excluded.seq, data = excluded.data
		WHERE excluded.version > tasks.version`,
		r.Tenant, t.ID, t.AssigneeID, t.CreatedBy, int(t.Status), dueKey(t), int(t.Record.Type), t.Record.ID, int64(t.Version), int64(r.Seq), data); err != nil {
		return fmt.Errorf("activitymodel: store task: %w", err)
	}
	return nil
}

// Item kinds of timeline rows.
const (
	itemNone     = 0
	itemActivity = 1
	itemTask     = 2
)

func putEntry(ctx context.Context, tx *sql.Tx, e Entry) error {
	if e.Tenant == "" || e.Record.ID == "" {
		return fmt.Errorf("%w: timeline entry without tenant or record", ErrBadChange)
	}
	kind, itemID := itemNone, e.ConvertedFrom
	var item []byte
	var err error
	switch {
	case e.Activity != nil:
		kind, itemID = itemActivity, e.Activity.ID
		item, err = proto.Marshal(protomap.ActivityToProto(*e.Activity))
	case e.Task != nil:
		kind, itemID = itemTask, e.Task.ID
		item, err = proto.Marshal(protomap.TaskToProto(*e.Task))
	}
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO timeline
		(tenant, record_type, record_id, at, seq, event_id, event_type, summary, actor, item_kind, item, item_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Tenant, int(e.Record.Type), e.Record.ID, e.At.UnixNano(), int64(e.Sequence), e.EventID, e.EventType,
		e.Summary, e.Actor, kind, item, itemID); err != nil {
		return fmt.Errorf("activitymodel: store timeline entry: %w", err)
	}
	return nil
}

func decodeActivity(data []byte) (activity.Activity, error) {
	var p leadsv1.Activity
	if err := proto.Unmarshal(data, &p); err != nil {
		return activity.Activity{}, fmt.Errorf("activitymodel: decode activity: %w", err)
	}
	return protomap.ActivityFromProto(&p), nil
}

func decodeTask(data []byte) (task.Task, error) {
	var p leadsv1.Task
	if err := proto.Unmarshal(data, &p); err != nil {
		return task.Task{}, fmt.Errorf("activitymodel: decode task: %w", err)
	}
	return protomap.TaskFromProto(&p), nil
}

// GetActivity returns one activity in scope (nil: any); NotFound when there is none, the same
// answer for one out of scope.
func (s *Store) GetActivity(ctx context.Context, tenant, id string, scope *Scope) (activity.Activity, error) {
	var w where
	w.add("a.tenant = ? AND a.id = ?", tenant, id)
	if scope != nil {
		w.addAll(scope.activityCond("a"))
	}
	var data []byte
	err := s.db.R.QueryRowContext(ctx, `SELECT a.data FROM activities a WHERE `+w.sql(), w.args...).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return activity.Activity{}, apperr.NotFoundf("activity", id)
	}
	if err != nil {
		return activity.Activity{}, fmt.Errorf("activitymodel: get activity: %w", err)
	}
	return decodeActivity(data)
}

// GetTask returns one task in scope (nil: any); NotFound when there is none, the same answer
// for one out of scope.
func (s *Store) GetTask(ctx context.Context, tenant, id string, scope *Scope) (task.Task, error) {
	var w where
	w.add("t.tenant = ? AND t.id = ?", tenant, id)
	if scope != nil {
		w.addAll(scope.taskCond("t"))
	}
	var data []byte
	err := s.db.R.QueryRowContext(ctx, `SELECT t.data FROM tasks t WHERE `+w.sql(), w.args...).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return task.Task{}, apperr.NotFoundf("task", id)
	}
	if err != nil {
		return task.Task{}, fmt.Errorf("activitymodel: get task: %w", err)
	}
	return decodeTask(data)
}

func pageSize(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultPageSize, nil
	case n < 0 || n > MaxPageSize:
		return 0, apperr.InvalidFields("invalid page size",
			apperr.FieldViolation{Field: "page_size", Description: fmt.Sprintf("must be between 1 and %d (0 for %d)", MaxPageSize, DefaultPageSize)})
	}
	return n, nil
}

func errBadPageToken() error {
	return apperr.InvalidFields("invalid page token", apperr.FieldViolation{Field: "page_token",
		Description: "is malformed or belongs to another query (filters must not change between pages)"})
}
