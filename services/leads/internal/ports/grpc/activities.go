package grpc

import (
	"context"
	"strings"

	"github.com/evcrm/evcrm/libs/apperr"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/protoconv"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/activitymodel"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
	"github.com/evcrm/evcrm/services/leads/internal/domain/task"
)

// ActivitiesServer implements leadsv1.ActivitiesServiceServer.
type ActivitiesServer struct {
	leadsv1.UnimplementedActivitiesServiceServer
	app *app.App
}

// NewActivitiesServer returns the activities gRPC server of a.
func NewActivitiesServer(a *app.App) *ActivitiesServer { return &ActivitiesServer{app: a} }

// under returns a renamer that puts violations of a nested message under the request field
// that holds it ("subject" → "activity.subject"); mask violations name the request's own field.
func under(field string) func(string) string {
	return func(f string) string {
		switch {
		case f == "":
			return field
		case strings.HasPrefix(f, "update_mask"):
			return f
		}
		return field + "." + f
	}
}

func (s *ActivitiesServer) LogActivity(ctx context.Context, req *leadsv1.LogActivityRequest) (*leadsv1.LogActivityResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	cmd, err := protomap.NewActivityFromProto("", reqctx.ActorFrom(ctx).ID, req.GetActivity())
	if err != nil {
		return nil, apperr.RenameFields(err, under("activity"))
	}
	res, err := s.app.LogActivity(ctx, t, cmd, write(req.GetOptions()))
	if err != nil {
		return nil, apperr.RenameFields(err, under("activity"))
	}
	return &leadsv1.LogActivityResponse{Activity: protomap.ActivityToProto(res.Activity), Result: result(res.Result)}, nil
}

func (s *ActivitiesServer) GetActivity(ctx context.Context, req *leadsv1.GetActivityRequest) (*leadsv1.GetActivityResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	if !activity.ValidID(req.GetActivityId()) {
		return nil, badID("activity_id")
	}
	a, err := s.app.GetActivity(ctx, t, req.GetActivityId(), read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.GetActivityResponse{Activity: protomap.ActivityToProto(a)}, nil
}

// recordFilter maps a record a query names; required says whether it may be unset.
func recordFilter(field string, p *leadsv1.RecordRef, required bool, v *apperr.Violations) activity.RecordRef {
	if p == nil {
		if required {
			v.Add(field, "is required")
		}
		return activity.RecordRef{}
	}
	r, err := protomap.RecordRefRequest(p, field)
	if err != nil {
		addErr(v, err)
		return activity.RecordRef{}
	}
	if !r.Type.Valid() {
		v.Add(field+".type", "must be one of LEAD, CONTACT, ACCOUNT, OPPORTUNITY")
	}
	if !activity.ValidID(r.ID) {
		v.Add(field+".id", "must match [A-Za-z0-9_-]{1,64}")
	}
	return r
}

func checkPageSize(n int32, v *apperr.Violations) {
	if n < 0 || n > activitymodel.MaxPageSize {
		v.Add("page_size", "must be between 1 and %d (0 for %d)", activitymodel.MaxPageSize, activitymodel.DefaultPageSize)
	}
}

func (s *ActivitiesServer) ListActivities(ctx context.Context, req *leadsv1.ListActivitiesRequest) (*leadsv1.ListActivitiesResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	var v apperr.Violations
	q := app.ActivityQuery{Tenant: t, Record: recordFilter("record", req.GetRecord(), false, &v), LoggedBy: req.GetLoggedBy(),
		OccurredAfter: protoconv.Time(req.GetOccurredAfter()), OccurredBefore: protoconv.Time(req.GetOccurredBefore()),
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()}
	for i, k := range req.GetKinds() {
		if k <= leadsv1.ActivityKind_ACTIVITY_KIND_UNSPECIFIED || k > leadsv1.ActivityKind_ACTIVITY_KIND_NOTE {
			v.Add(fieldIndex("kinds", i), "must be one of CALL, EMAIL, MEETING, NOTE")
			continue
		}
		q.Kinds = append(q.Kinds, activity.Kind(k))
	}
	checkPageSize(req.GetPageSize(), &v)
	if err := v.Err("invalid activity query"); err != nil {
		return nil, err
	}
	acts, next, err := s.app.ListActivities(ctx, q, read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	out := make([]*leadsv1.Activity, len(acts))
	for i, a := range acts {
		out[i] = protomap.ActivityToProto(a)
	}
	return &leadsv1.ListActivitiesResponse{Activities: out, NextPageToken: next}, nil
}

func (s *ActivitiesServer) CreateTask(ctx context.Context, req *leadsv1.CreateTaskRequest) (*leadsv1.CreateTaskResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	cmd, err := protomap.NewTaskFromProto("", reqctx.ActorFrom(ctx).ID, req.GetTask())
	if err != nil {
		return nil, apperr.RenameFields(err, under("task"))
	}
	res, err := s.app.CreateTask(ctx, t, cmd, write(req.GetOptions()))
	if err != nil {
		return nil, apperr.RenameFields(err, under("task"))
	}
	return &leadsv1.CreateTaskResponse{Task: protomap.TaskToProto(res.Task), Result: result(res.Result)}, nil
}

func (s *ActivitiesServer) GetTask(ctx context.Context, req *leadsv1.GetTaskRequest) (*leadsv1.GetTaskResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	if !activity.ValidID(req.GetTaskId()) {
		return nil, badID("task_id")
	}
	tk, err := s.app.GetTask(ctx, t, req.GetTaskId(), read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.GetTaskResponse{Task: protomap.TaskToProto(tk)}, nil
}

func (s *ActivitiesServer) UpdateTask(ctx context.Context, req *leadsv1.UpdateTaskRequest) (*leadsv1.UpdateTaskResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	upd, err := protomap.TaskUpdateFromProto(req.GetTask(), req.GetUpdateMask())
	if err != nil {
		return nil, apperr.RenameFields(err, under("task"))
	}
	res, err := s.app.UpdateTask(ctx, t, req.GetTaskId(), upd, write(req.GetOptions()))
	if err != nil {
		return nil, apperr.RenameFields(err, func(f string) string {
			if f == "task_id" {
				return f
			}
			return under("task")(f)
		})
	}
	return &leadsv1.UpdateTaskResponse{Task: protomap.TaskToProto(res.Task), Result: result(res.Result)}, nil
}

func (s *ActivitiesServer) CompleteTask(ctx context.Context, req *leadsv1.CompleteTaskRequest) (*leadsv1.CompleteTaskResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.app.CompleteTask(ctx, t, req.GetTaskId(), req.GetNote(), write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.CompleteTaskResponse{Task: protomap.TaskToProto(res.Task), Result: result(res.Result)}, nil
}

func (s *ActivitiesServer) CancelTask(ctx context.Context, req *leadsv1.CancelTaskRequest) (*leadsv1.CancelTaskResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.app.CancelTask(ctx, t, req.GetTaskId(), req.GetNote(), write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.CancelTaskResponse{Task: protomap.TaskToProto(res.Task), Result: result(res.Result)}, nil
}

func (s *ActivitiesServer) ReopenTask(ctx context.Context, req *leadsv1.ReopenTaskRequest) (*leadsv1.ReopenTaskResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.app.ReopenTask(ctx, t, req.GetTaskId(), req.GetNote(), write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.ReopenTaskResponse{Task: protomap.TaskToProto(res.Task), Result: result(res.Result)}, nil
}

func (s *ActivitiesServer) ListTasks(ctx context.Context, req *leadsv1.ListTasksRequest) (*leadsv1.ListTasksResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	var v apperr.Violations
	q := app.TaskQuery{Tenant: t, AssigneeID: req.GetAssigneeId(), OverdueOnly: req.GetOverdueOnly(),
		Record: recordFilter("record", req.GetRecord(), false, &v), DueAfter: protoconv.Time(req.GetDueAfter()),
		DueBefore: protoconv.Time(req.GetDueBefore()), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()}
	for i, st := range req.GetStatuses() {
		if st <= leadsv1.TaskStatus_TASK_STATUS_UNSPECIFIED || st > leadsv1.TaskStatus_TASK_STATUS_CANCELLED {
			v.Add(fieldIndex("statuses", i), "must be one of OPEN, DONE, CANCELLED")
			continue
		}
		q.Statuses = append(q.Statuses, task.Status(st))
	}
	checkPageSize(req.GetPageSize(), &v)
	if err := v.Err("invalid task query"); err != nil {
		return nil, err
	}
	tasks, next, err := s.app.ListTasks(ctx, q, read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	out := make([]*leadsv1.Task, len(tasks))
	for i, tk := range tasks {
		out[i] = protomap.TaskToProto(tk)
	}
	return &leadsv1.ListTasksResponse{Tasks: out, NextPageToken: next}, nil
}

func (s *ActivitiesServer) GetTimeline(ctx context.Context, req *leadsv1.GetTimelineRequest) (*leadsv1.GetTimelineResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	var v apperr.Violations
	q := app.TimelineQuery{Tenant: t, Record: recordFilter("record", req.GetRecord(), true, &v),
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()}
	checkPageSize(req.GetPageSize(), &v)
	if err := v.Err("invalid timeline query"); err != nil {
		return nil, err
	}
	entries, next, err := s.app.Timeline(ctx, q, read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	out := make([]*leadsv1.TimelineEntry, len(entries))
	for i, e := range entries {
		p := &leadsv1.TimelineEntry{At: protoconv.Timestamp(e.At), EventId: e.EventID, EventType: e.EventType,
			Summary: e.Summary, Actor: e.Actor, Sequence: e.Sequence}
		switch {
		case e.Activity != nil:
			p.Item = &leadsv1.TimelineEntry_Activity{Activity: protomap.ActivityToProto(*e.Activity)}
		case e.Task != nil:
			p.Item = &leadsv1.TimelineEntry_Task{Task: protomap.TaskToProto(*e.Task)}
		}
		out[i] = p
	}
	return &leadsv1.GetTimelineResponse{Entries: out, NextPageToken: next}, nil
}
