package activitymodel

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/evcrm/evcrm/libs/pagetoken"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
	"github.com/evcrm/evcrm/services/leads/internal/domain/task"
)

// cursor is a keyset position: the sort key and tiebreak of the last row served.
type cursor struct {
	Key int64  `json:"k"`
	ID  string `json:"i,omitempty"`
	Seq int64  `json:"s,omitempty"`
}

// ActivityQuery lists activities, newest first (occurred_at, then id, descending).
type ActivityQuery struct {
	Tenant string
	// Record, when set, keeps the activities that concern it.
	Record   activity.RecordRef
	Kinds    []activity.Kind
	LoggedBy string
	// OccurredAfter and OccurredBefore bound occurred_at (inclusive, exclusive); zero is open.
	OccurredAfter, OccurredBefore time.Time
	PageSize                      int
	PageToken                     string
	// Scope keeps the activities the caller may see; nil keeps all. Not part of the page
	// token's fingerprint (see Scope).
	Scope *Scope
}

func (q ActivityQuery) fingerprint() string {
	var f pagetoken.Fingerprint
	f.Str(q.Tenant)
	f.Int(int64(q.Record.Type))
	f.Str(q.Record.ID)
	pagetoken.IntSet(&f, q.Kinds)
	f.Str(q.LoggedBy)
	f.Int(nanos(q.OccurredAfter))
	f.Int(nanos(q.OccurredBefore))
	return f.Sum()
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// where collects SQL conditions and their arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// addAll is add for a condition built with its arguments (a Scope's).
func (w *where) addAll(cond string, args []any) { w.add(cond, args...) }

func (w *where) in(col string, vals []int) {
	if len(vals) == 0 {
		return
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	w.add(col+" IN ("+marks+")", args...)
}

func (w *where) sql() string { return strings.Join(w.conds, " AND ") }

// ListActivities answers q and the token of the next page ("" on the last).
func (s *Store) ListActivities(ctx context.Context, q ActivityQuery) ([]activity.Activity, string, error) {
	size, err := pageSize(q.PageSize)
	if err != nil {
		return nil, "", err
	}
	hash := q.fingerprint()
	var c cursor
	more, err := pagetoken.Decode(q.PageToken, "activities", hash, &c)
	if err != nil {
		return nil, "", errBadPageToken()
	}
	// With a record, the per-record index drives the scan and the activity row is joined.
	from, at := "activities a", "a.occurred_at"
	var w where
	w.add("a.tenant = ?", q.Tenant)
	if !q.Record.IsZero() {
		from, at = "activity_records r JOIN activities a ON a.tenant = r.tenant AND a.id = r.activity_id", "r.occurred_at"
		w.add("r.tenant = ? AND r.record_type = ? AND r.record_id = ?", q.Tenant, int(q.Record.Type), q.Record.ID)
	}
	kinds := make([]int, len(q.Kinds))
	for i, k := range q.Kinds {
		kinds[i] = int(k)
	}
	w.in("a.kind", kinds)
	if q.LoggedBy != "" {
		w.add("a.logged_by = ?", q.LoggedBy)
	}
	if !q.OccurredAfter.IsZero() {
		w.add(at+" >= ?", q.OccurredAfter.UnixNano())
	}
	if !q.OccurredBefore.IsZero() {
		w.add(at+" < ?", q.OccurredBefore.UnixNano())
	}
	if more {
		w.add("("+at+" < ? OR ("+at+" = ? AND a.id < ?))", c.Key, c.Key, c.ID)
	}
	if q.Scope != nil {
		w.addAll(q.Scope.activityCond("a"))
	}
	query := fmt.Sprintf(`SELECT a.data, %s, a.id FROM %s WHERE %s ORDER BY %s DESC, a.id DESC LIMIT ?`, at, from, w.sql(), at)
	rows, err := s.db.R.QueryContext(ctx, query, append(w.args, size+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("activitymodel: list activities: %w", err)
	}
	defer rows.Close()
	var out []activity.Activity
	var last cursor
	for rows.Next() {
		var data []byte
		var k cursor
		if err := rows.Scan(&data, &k.Key, &k.ID); err != nil {
			return nil, "", fmt.Errorf("activitymodel: list activities: %w", err)
		}
		if len(out) == size {
			return out, pagetoken.Encode("activities", hash, last), nil
		}
		a, err := decodeActivity(data)
		if err != nil {
			return nil, "", err
		}
		out = append(out, a)
		last = k
	}
	return out, "", rows.Err()
}

// TaskQuery lists tasks by due date (tasks without one last), then id.
type TaskQuery struct {
	Tenant     string
	AssigneeID string
	// Statuses keeps tasks in one of them; empty keeps all.
	Statuses []task.Status
	// OverdueOnly keeps OPEN tasks whose due time is before Now.
	OverdueOnly bool
	// Now is the time overdue is judged at (the time of the query).
	Now time.Time
	// Record, when set, keeps the tasks about it.
	Record activity.RecordRef
	// DueAfter and DueBefore bound due_at (inclusive, exclusive); zero is open. Either one
	// excludes tasks without a due date.
	DueAfter, DueBefore time.Time
	PageSize            int
	PageToken           string
	// Scope keeps the tasks the caller may see; nil keeps all. Not part of the page token's
	// fingerprint (see Scope).
	Scope *Scope
}

func (q TaskQuery) fingerprint() string {
	var f pagetoken.Fingerprint
	f.Str(q.Tenant)
	f.Str(q.AssigneeID)
	pagetoken.IntSet(&f, q.Statuses)
	if q.OverdueOnly {
		f.Str("overdue")
	}
	f.Int(int64(q.Record.Type))
	f.Str(q.Record.ID)
	f.Int(nanos(q.DueAfter))
	f.Int(nanos(q.DueBefore))
	return f.Sum()
}

// ListTasks answers q and the token of the next page ("" on the last).
func (s *Store) ListTasks(ctx context.Context, q TaskQuery) ([]task.Task, string, error) {
	size, err := pageSize(q.PageSize)
	if err != nil {
		return nil, "", err
	}
	hash := q.fingerprint()
	var c cursor
	more, err := pagetoken.Decode(q.PageToken, "tasks", hash, &c)
	if err != nil {
		return nil, "", errBadPageToken()
	}
	// Columns are qualified: the scope's subqueries have their own tenant and record columns.
	var w where
	w.add("t.tenant = ?", q.Tenant)
	if q.AssigneeID != "" {
		w.add("t.assignee_id = ?", q.AssigneeID)
	}
	statuses := make([]int, len(q.Statuses))
	for i, st := range q.Statuses {
		statuses[i] = int(st)
	}
	w.in("t.status", statuses)
	if q.OverdueOnly {
		w.add("t.status = ? AND t.due_key < ?", int(task.StatusOpen), q.Now.UnixNano())
	}
	if !q.Record.IsZero() {
		w.add("t.record_type = ? AND t.record_id = ?", int(q.Record.Type), q.Record.ID)
	}
	if !q.DueAfter.IsZero() {
		w.add("t.due_key >= ?", q.DueAfter.UnixNano())
	}
	if !q.DueBefore.IsZero() {
		w.add("t.due_key < ?", q.DueBefore.UnixNano())
	}
	if more {
		w.add("(t.due_key > ? OR (t.due_key = ? AND t.id > ?))", c.Key, c.Key, c.ID)
	}
	if q.Scope != nil {
		w.addAll(q.Scope.taskCond("t"))
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT t.data, t.due_key, t.id FROM tasks t WHERE `+w.sql()+` ORDER BY t.due_key, t.id LIMIT ?`,
		append(w.args, size+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("activitymodel: list tasks: %w", err)
	}
	defer rows.Close()
	var out []task.Task
	var last cursor
	for rows.Next() {
		var data []byte
		var k cursor
		if err := rows.Scan(&data, &k.Key, &k.ID); err != nil {
			return nil, "", fmt.Errorf("activitymodel: list tasks: %w", err)
		}
		if len(out) == size {
			return out, pagetoken.Encode("tasks", hash, last), nil
		}
		t, err := decodeTask(data)
		if err != nil {
			return nil, "", err
		}
		out = append(out, t)
		last = k
	}
	return out, "", rows.Err()
}

// TimelineQuery asks for one record's timeline, newest first.
type TimelineQuery struct {
	Tenant    string
	Record    activity.RecordRef
	PageSize  int
	PageToken string
	// EntryScope, when set, keeps only the entries whose item the caller may see (an activity
	// or task in scope, a conversion from a lead in scope; never a record's own event): for the
	// timeline of a record the caller's scope does not judge as a whole (an opportunity). Not
	// part of the page token's fingerprint (see Scope).
	EntryScope *Scope
}

// Timeline answers q, newest first by (at, sequence), and the token of the next page.
func (s *Store) Timeline(ctx context.Context, q TimelineQuery) ([]Entry, string, error) {
	size, err := pageSize(q.PageSize)
	if err != nil {
		return nil, "", err
	}
	var f pagetoken.Fingerprint
	f.Str(q.Tenant)
	f.Int(int64(q.Record.Type))
	f.Str(q.Record.ID)
	hash := f.Sum()
	var c cursor
	more, err := pagetoken.Decode(q.PageToken, "timeline", hash, &c)
	if err != nil {
		return nil, "", errBadPageToken()
	}
	var w where
	w.add("tl.tenant = ? AND tl.record_type = ? AND tl.record_id = ?", q.Tenant, int(q.Record.Type), q.Record.ID)
	if more {
		w.add("(tl.at < ? OR (tl.at = ? AND tl.seq < ?))", c.Key, c.Key, c.Seq)
	}
	if q.EntryScope != nil {
		w.addAll(q.EntryScope.entryCond())
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT tl.at, tl.seq, tl.event_id, tl.event_type, tl.summary, tl.actor, tl.item_kind, tl.item
		FROM timeline tl WHERE `+w.sql()+` ORDER BY tl.at DESC, tl.seq DESC LIMIT ?`, append(w.args, size+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("activitymodel: timeline: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var at, seq int64
		var kind int
		var item []byte
		e := Entry{Tenant: q.Tenant, Record: q.Record}
		if err := rows.Scan(&at, &seq, &e.EventID, &e.EventType, &e.Summary, &e.Actor, &kind, &item); err != nil {
			return nil, "", fmt.Errorf("activitymodel: timeline: %w", err)
		}
		if len(out) == size {
			l := out[len(out)-1]
			return out, pagetoken.Encode("timeline", hash, cursor{Key: l.At.UnixNano(), Seq: int64(l.Sequence)}), nil
		}
		e.At, e.Sequence = time.Unix(0, at).UTC(), uint64(seq)
		switch kind {
		case itemActivity:
			a, err := decodeActivity(item)
			if err != nil {
				return nil, "", err
			}
			e.Activity = &a
		case itemTask:
			t, err := decodeTask(item)
			if err != nil {
				return nil, "", err
			}
			e.Task = &t
		}
		out = append(out, e)
	}
	return out, "", rows.Err()
}
