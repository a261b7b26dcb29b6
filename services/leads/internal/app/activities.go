package app

import (
	"context"
	"slices"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/platform/authz"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/activitymodel"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
	"github.com/evcrm/evcrm/services/leads/internal/domain/task"
)

// ActivityViews answers activity, task and timeline queries from their read model.
type ActivityViews interface {
	// WaitFor returns once the read model has applied stream sequence seq.
	WaitFor(ctx context.Context, seq uint64) error
	// GetActivity and GetTask answer NotFound for a row out of scope (nil: none is) exactly as
	// for a missing one.
	GetActivity(ctx context.Context, tenant, id string, scope *activitymodel.Scope) (activity.Activity, error)
	ListActivities(ctx context.Context, q ActivityQuery) ([]activity.Activity, string, error)
	GetTask(ctx context.Context, tenant, id string, scope *activitymodel.Scope) (task.Task, error)
	ListTasks(ctx context.Context, q TaskQuery) ([]task.Task, string, error)
	Timeline(ctx context.Context, q TimelineQuery) ([]TimelineEntry, string, error)
}

// RecordLog tells whether a record has any event. *eventstore.Store implements it with one
// direct get, so checking a contact or account needs none of their domain code.
type RecordLog interface {
	Last(ctx context.Context, ref eventstore.Ref) (eventstore.Recorded, bool, error)
}

// ActivityDeps are the adapters activities, tasks and timelines run on.
type ActivityDeps struct {
	Activities *eventstore.Repository[activity.Activity, activity.Event]
	Tasks      *eventstore.Repository[task.Task, task.Event]
	Records    RecordLog
	Views      ActivityViews
}

// Queries of the activities read model.
type (
	ActivityQuery = activitymodel.ActivityQuery
	TaskQuery     = activitymodel.TaskQuery
	TimelineQuery = activitymodel.TimelineQuery
	TimelineEntry = activitymodel.Entry
)

// ReasonRecordNotFound is the Reason of the FailedPrecondition error for an activity or task
// that refers to a lead, contact or account that does not exist.
const ReasonRecordNotFound = "RECORD_NOT_FOUND"

// ActivityResult is an activity after LogActivity and where the command left it.
type ActivityResult struct {
	Activity activity.Activity
	Result   eventstore.Result
}

// actorID is the acting user (or service) of the request.
func actorID(ctx context.Context) string { return reqctx.ActorFrom(ctx).ID }

// requireRecords checks that every lead, contact and account in refs has events, and that they
// are in the caller's row-level scope: an activity or task about a record out of scope is
// refused as one about a missing record (a lead's engagement reaction would change the lead;
// an account's or contact's timeline would show it to its owner).
// Opportunities belong to the pipeline service and are taken as given.
func (a *App) requireRecords(ctx context.Context, tenant string, refs ...activity.RecordRef) error {
	for _, r := range refs {
		if !r.Type.Owned() {
			continue
		}
		ok, err := a.existingVisibleRecord(ctx, tenant, r)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.Precondition(ReasonRecordNotFound, "%s %s does not exist", r.Type, r.ID)
		}
	}
	return nil
}

// LogActivity logs an activity with an id the service chooses. The input is validated before
// the records are looked up, so a malformed request is Invalid whatever it names; a lead,
// contact or account that does not exist is FailedPrecondition. Nothing is appended for either.
func (a *App) LogActivity(ctx context.Context, tenant string, cmd activity.NewActivity, w Write) (ActivityResult, error) {
	cmd.ID = a.d.NewID()
	repo := a.d.Activity.Activities
	c := eventstore.Command{Name: "LogActivity", New: true, IdempotencyKey: w.IdempotencyKey}
	act, res, err := repo.Run(ctx, repo.Ref(tenant, cmd.ID), c, func(cur activity.Activity) ([]activity.Event, error) {
		evs, err := activity.Log(cur, cmd, a.now(ctx))
		if err != nil {
			return nil, err
		}
		if err := a.requireRecords(ctx, tenant, cmd.Records...); err != nil {
			return nil, err
		}
		return evs, nil
	})
	if err != nil {
		return ActivityResult{}, err
	}
	return ActivityResult{Activity: act, Result: res}, nil
}

func (a *App) waitActivities(ctx context.Context, r Read) error {
	if r.MinSequence == 0 {
		return nil
	}
	return a.d.Activity.Views.WaitFor(ctx, r.MinSequence)
}

// Row-level rules for activities and tasks (libs/platform/authz.Scope): a caller with a
// restricted scope sees an activity it (or, for a manager, its team) logged, and a task it
// created or is assigned to, and every activity or task about a lead, account or contact in
// its scope, judged as those records' own reads judge them (scope.go, scope_accounts.go).
// Opportunities widen nothing: the activities read model follows CRM_LEADS only, not the
// pipeline's owners, so an activity or task about opportunities alone is visible by the first
// rule only. Reads filter in the read model's SQL (activityReadScope); task commands check the
// task as loaded from the log, and its record from the log (taskInScope). Out of scope is
// answered exactly as missing (apperr.NotFoundf("activity"|"task", id)), and a command on a
// task out of scope appends nothing.

// activityReadScope is the read model filter of the caller's scope; nil when it sees every
// activity and task.
func activityReadScope(ctx context.Context) *activitymodel.Scope {
	s := authz.ScopeOf(ctx)
	if s.All {
		return nil
	}
	return &activitymodel.Scope{Owners: s.Owners, Territories: s.Territories}
}

// taskInScope reports whether the caller may see and change t (a task that exists, as loaded
// from the log).
func (a *App) taskInScope(ctx context.Context, s authz.Scope, tenant string, t task.Task) (bool, error) {
	switch {
	case !t.Exists():
		return false, nil
	case s.All:
		return true, nil
	case s.Empty():
		return false, nil
	case t.AssigneeID != "" && slices.Contains(s.Owners, t.AssigneeID), t.CreatedBy != "" && slices.Contains(s.Owners, t.CreatedBy):
		return true, nil
	case !t.Record.Type.Owned():
		return false, nil // an opportunity widens nothing (see above)
	}
	return a.visibleRecord(ctx, tenant, t.Record)
}

// GetActivity returns one activity from the read model; NotFound out of the caller's scope.
func (a *App) GetActivity(ctx context.Context, tenant, id string, r Read) (activity.Activity, error) {
	if err := a.waitActivities(ctx, r); err != nil {
		return activity.Activity{}, err
	}
	return a.d.Activity.Views.GetActivity(ctx, tenant, id, activityReadScope(ctx))
}

// ListActivities lists activities from the read model, newest first, in the caller's scope.
func (a *App) ListActivities(ctx context.Context, q ActivityQuery, r Read) ([]activity.Activity, string, error) {
	if err := a.waitActivities(ctx, r); err != nil {
		return nil, "", err
	}
	q.Scope = activityReadScope(ctx)
	return a.d.Activity.Views.ListActivities(ctx, q)
}
