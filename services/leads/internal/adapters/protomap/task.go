package protomap

import (
	"fmt"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/evcrm/evcrm/libs/apperr"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/task"
)

// TaskToProto maps a task, every field.
func TaskToProto(t task.Task) *leadsv1.Task {
	return &leadsv1.Task{
		Id: t.ID, Version: t.Version, Subject: t.Subject, Description: t.Description, AssigneeId: t.AssigneeID,
		DueAt: ts(t.DueAt), Priority: leadsv1.TaskPriority(t.Priority), Status: leadsv1.TaskStatus(t.Status),
		Record: RecordRefToProto(t.Record), CompletedAt: ts(t.CompletedAt), CreatedBy: t.CreatedBy,
		CreatedAt: ts(t.CreatedAt), UpdatedAt: ts(t.UpdatedAt),
	}
}

// TaskFromProto is the lossless inverse of TaskToProto.
func TaskFromProto(p *leadsv1.Task) task.Task {
	return task.Task{
		ID: p.GetId(), Version: p.GetVersion(), Subject: p.GetSubject(), Description: p.GetDescription(),
		AssigneeID: p.GetAssigneeId(), DueAt: fromTS(p.GetDueAt()), Priority: task.Priority(p.GetPriority()),
		Status: task.Status(p.GetStatus()), Record: RecordRefFromProto(p.GetRecord()),
		CompletedAt: fromTS(p.GetCompletedAt()), CreatedBy: p.GetCreatedBy(), CreatedAt: fromTS(p.GetCreatedAt()),
		UpdatedAt: fromTS(p.GetUpdatedAt()),
	}
}

// taskValues maps the settable fields of a request's task, adding a violation for each one
// touched that cannot be mapped faithfully (undeclared enum number, malformed timestamp).
// Paths are relative to the task ("priority", "record.type", "due_at").
func taskValues(p *leadsv1.Task, touched func(string) bool, v *apperr.Violations) task.Task {
	var ev apperr.Violations
	t := task.Task{Subject: p.GetSubject(), Description: p.GetDescription(), AssigneeID: p.GetAssigneeId(),
		Priority: task.Priority(p.GetPriority())}
	if !checkEnum(p.GetPriority(), task.PathPriority, &ev) {
		t.Priority = task.PriorityUnspecified
	}
	if touched(task.PathPriority) {
		*v = append(*v, ev...)
	}
	if d := p.GetDueAt(); d != nil {
		if err := d.CheckValid(); err != nil && touched(task.PathDueAt) {
			v.Add(task.PathDueAt, "is not a valid time")
		}
		t.DueAt = d.AsTime()
	}
	if r := p.GetRecord(); r != nil {
		var rv apperr.Violations
		checkEnum(r.GetType(), task.PathRecord+".type", &rv)
		if touched(task.PathRecord) {
			*v = append(*v, rv...)
		}
		t.Record = RecordRefFromProto(r)
	}
	return t
}

// NewTaskFromProto maps the task of a CreateTask request to the command; id is the id the app
// chose and createdBy the acting user. Output-only fields are ignored.
func NewTaskFromProto(id, createdBy string, p *leadsv1.Task) (task.NewTask, error) {
	if p == nil {
		return task.NewTask{}, apperr.InvalidFields("invalid task", apperr.FieldViolation{Field: "", Description: "is required"})
	}
	var v apperr.Violations
	t := taskValues(p, func(string) bool { return true }, &v)
	if err := v.Err("invalid task"); err != nil {
		return task.NewTask{}, err
	}
	return task.NewTask{ID: id, Subject: t.Subject, Description: t.Description, AssigneeID: t.AssigneeID,
		DueAt: t.DueAt, Priority: t.Priority, Record: t.Record, CreatedBy: createdBy}, nil
}

// taskNotUpdatable are Task fields UpdateTask does not change, with the RPCs that do.
var taskNotUpdatable = map[string]string{
	"id": "", "version": "", "completed_at": "", "created_by": "", "created_at": "", "updated_at": "",
	"status": "CompleteTask, CancelTask or ReopenTask",
}

// TaskUpdateFromProto maps an UpdateTask request to the command. Mask paths are the proto
// field names (task.Paths); output-only or unknown ones are Invalid ("update_mask.paths[i]").
// Values of named fields are checked; fields not named are ignored whatever they hold.
// Violations of values are relative to the task ("priority"); the caller prefixes them.
func TaskUpdateFromProto(p *leadsv1.Task, mask *fieldmaskpb.FieldMask) (task.Update, error) {
	var v apperr.Violations
	known := map[string]bool{}
	for _, path := range task.Paths() {
		known[path] = true
	}
	named := map[string]bool{}
	var paths []string
	for i, path := range mask.GetPaths() {
		field := fmt.Sprintf("update_mask.paths[%d]", i)
		switch rpc, out := taskNotUpdatable[path]; {
		case known[path]:
			named[path] = true
			paths = append(paths, path)
		case out && rpc != "":
			v.Add(field, "%q is not changed by UpdateTask; use %s", path, rpc)
		case out:
			v.Add(field, "%q is output only", path)
		default:
			v.Add(field, "unknown field %q", path)
		}
	}
	vals := taskValues(p, func(path string) bool { return named[path] }, &v)
	if err := v.Err("invalid task update"); err != nil {
		return task.Update{}, err
	}
	return task.Update{Paths: paths, Values: vals}, nil
}
