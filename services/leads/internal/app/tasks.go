package app

import (
	"context"
	"slices"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/platform/authz"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
	"github.com/evcrm/evcrm/services/leads/internal/domain/task"
)

// TaskResult is a task after a command and where the command left it.
type TaskResult struct {
	Task   task.Task
	Result eventstore.Result
}

// CreateTask creates an OPEN task with an id the service chooses; CreatedBy is the acting
// user. A task about a lead, contact or account that does not exist is FailedPrecondition.
func (a *App) CreateTask(ctx context.Context, tenant string, cmd task.NewTask, w Write) (TaskResult, error) {
	cmd.ID = a.d.NewID()
	if cmd.CreatedBy == "" {
		cmd.CreatedBy = actorID(ctx)
	}
	repo := a.d.Activity.Tasks
	c := eventstore.Command{Name: "CreateTask", New: true, IdempotencyKey: w.IdempotencyKey}
	return a.runTask(ctx, repo.Ref(tenant, cmd.ID), c, func(cur task.Task, now time.Time) ([]task.Event, error) {
		evs, err := task.Create(cur, cmd, now)
		if err != nil {
			return nil, err
		}
		return evs, a.requireRecords(ctx, tenant, cmd.Record)
	})
}

func (a *App) runTask(ctx context.Context, ref eventstore.Ref, c eventstore.Command, decide func(task.Task, time.Time) ([]task.Event, error)) (TaskResult, error) {
	t, res, err := a.d.Activity.Tasks.Run(ctx, ref, c, func(cur task.Task) ([]task.Event, error) { return decide(cur, a.now(ctx)) })
	if err != nil {
		return TaskResult{}, err
	}
	return TaskResult{Task: t, Result: res}, nil
}

// execTask runs a command on an existing task in the caller's scope. A task that does not
// exist or is out of scope is NotFound and the command appends nothing; the expected version
// is checked after the scope (eventstore.ExpectVersion), so a mismatch never tells that a task
// out of scope exists.
func (a *App) execTask(ctx context.Context, tenant, id, name string, w Write, decide func(task.Task, time.Time) ([]task.Event, error)) (TaskResult, error) {
	if !activity.ValidID(id) {
		return TaskResult{}, apperr.InvalidFields("invalid task id", apperr.FieldViolation{Field: "task_id", Description: "must match [A-Za-z0-9_-]{1,64}"})
	}
	scope := authz.ScopeOf(ctx)
	c := eventstore.Command{Name: name, IdempotencyKey: w.IdempotencyKey}
	res, err := a.runTask(ctx, a.d.Activity.Tasks.Ref(tenant, id), c, func(cur task.Task, now time.Time) ([]task.Event, error) {
		ok, err := a.taskInScope(ctx, scope, tenant, cur)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, apperr.NotFoundf("task", id)
		}
		if err := eventstore.ExpectVersion(cur.Version, w.ExpectedVersion); err != nil {
			return nil, err
		}
		return decide(cur, now)
	})
	if err != nil || !res.Result.Replayed {
		return res, err
	}
	// An idempotency key's stored outcome is not decided again: the task it returns must still
	// be the caller's to see.
	ok, err := a.taskInScope(ctx, scope, tenant, res.Task)
	if err != nil {
		return TaskResult{}, err
	}
	if !ok {
		return TaskResult{}, apperr.NotFoundf("task", id)
	}
	return res, nil
}

// UpdateTask changes the fields cmd.Paths names. Moving the task to a lead, contact or account
// requires the record to exist.
func (a *App) UpdateTask(ctx context.Context, tenant, id string, cmd task.Update, w Write) (TaskResult, error) {
	return a.execTask(ctx, tenant, id, "UpdateTask", w, func(cur task.Task, now time.Time) ([]task.Event, error) {
		evs, err := task.UpdateFields(cur, cmd, now)
		if err != nil || !slices.Contains(cmd.Paths, task.PathRecord) {
			return evs, err
		}
		if next := task.ApplyAll(cur, evs...); next.Record != cur.Record {
			return evs, a.requireRecords(ctx, tenant, next.Record)
		}
		return evs, nil
	})
}

// CompleteTask marks an OPEN task DONE.
func (a *App) CompleteTask(ctx context.Context, tenant, id, note string, w Write) (TaskResult, error) {
	return a.execTask(ctx, tenant, id, "CompleteTask", w, func(cur task.Task, now time.Time) ([]task.Event, error) {
		return task.Complete(cur, note, now)
	})
}

// CancelTask marks an OPEN task CANCELLED.
func (a *App) CancelTask(ctx context.Context, tenant, id, note string, w Write) (TaskResult, error) {
	return a.execTask(ctx, tenant, id, "CancelTask", w, func(cur task.Task, now time.Time) ([]task.Event, error) {
		return task.Cancel(cur, note, now)
	})
}

// ReopenTask makes a DONE or CANCELLED task OPEN again.
func (a *App) ReopenTask(ctx context.Context, tenant, id, note string, w Write) (TaskResult, error) {
	return a.execTask(ctx, tenant, id, "ReopenTask", w, func(cur task.Task, now time.Time) ([]task.Event, error) {
		return task.Reopen(cur, note, now)
	})
}

// GetTask returns one task from the read model; NotFound out of the caller's scope.
func (a *App) GetTask(ctx context.Context, tenant, id string, r Read) (task.Task, error) {
	if err := a.waitActivities(ctx, r); err != nil {
		return task.Task{}, err
	}
	return a.d.Activity.Views.GetTask(ctx, tenant, id, activityReadScope(ctx))
}

// ListTasks lists tasks from the read model by due date, in the caller's scope. Overdue is
// judged at the time of the query.
func (a *App) ListTasks(ctx context.Context, q TaskQuery, r Read) ([]task.Task, string, error) {
	if err := a.waitActivities(ctx, r); err != nil {
		return nil, "", err
	}
	q.Now = a.now(ctx)
	q.Scope = activityReadScope(ctx)
	return a.d.Activity.Views.ListTasks(ctx, q)
}
