package protomap_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
	"github.com/evcrm/evcrm/services/leads/internal/domain/task"
)

func fullTask() task.Task {
	return task.Task{ID: "task-1", Version: 3, Subject: "Send proposal", Description: "v2 with discount",
		AssigneeID: "rep-1", DueAt: at(48 * time.Hour), Priority: task.PriorityHigh, Status: task.StatusDone,
		Record: activity.RecordRef{Type: activity.RecordOpportunity, ID: "opp-1"}, CompletedAt: at(40 * time.Hour),
		CreatedBy: "rep-2", CreatedAt: at(time.Hour), UpdatedAt: at(40 * time.Hour)}
}

func TestTaskCodecRoundTrip(t *testing.T) {
	t.Parallel()
	codec := protomap.TaskCodec{}
	occurred := at(50 * time.Hour)
	events := []task.Event{
		task.TaskCreated{Task: fullTask(), At: occurred},
		task.TaskUpdated{Changed: []string{task.PathSubject, task.PathDueAt}, Before: task.Task{Subject: "a", DueAt: at(time.Hour)},
			After: task.Task{Subject: "b"}, At: occurred},
		task.TaskStatusChanged{From: task.StatusOpen, To: task.StatusCancelled, Note: "no longer needed",
			AssigneeID: "rep-1", Record: activity.RecordRef{Type: activity.RecordLead, ID: "l-1"}, At: occurred},
	}
	for _, e := range events {
		msg, err := codec.Encode(e)
		require.NoError(t, err)
		back, err := codec.Decode(record(t, msg, occurred))
		require.NoError(t, err, "%T", e)
		assert.Equal(t, e, back)
	}
	msg, err := codec.Encode(events[0])
	require.NoError(t, err)
	assert.Empty(t, unsetFields(msg.(*leadsv1.TaskCreated).GetTask()), "every Task field is mapped")
	msg, err = codec.Encode(events[2])
	require.NoError(t, err)
	assert.Empty(t, unsetFields(msg))
	_, err = codec.Decode(record(t, &leadsv1.ActivityLogged{}, occurred))
	assert.Error(t, err)
}

func TestTaskRequests(t *testing.T) {
	t.Parallel()
	cmd, err := protomap.NewTaskFromProto("t-new", "rep-9", protomap.TaskToProto(fullTask()))
	require.NoError(t, err)
	assert.Equal(t, task.NewTask{ID: "t-new", Subject: "Send proposal", Description: "v2 with discount", AssigneeID: "rep-1",
		DueAt: at(48 * time.Hour), Priority: task.PriorityHigh, Record: fullTask().Record, CreatedBy: "rep-9"}, cmd)

	_, err = protomap.NewTaskFromProto("t", "u", &leadsv1.Task{Priority: 9, Record: &leadsv1.RecordRef{Type: 8, Id: "x"}})
	assert.Equal(t, []string{"priority", "record.type"}, violations(t, err))

	upd, err := protomap.TaskUpdateFromProto(&leadsv1.Task{Subject: "s", Priority: 99}, &fieldmaskpb.FieldMask{Paths: []string{"subject", "due_at"}})
	require.NoError(t, err, "a bad value in a field not named is ignored")
	assert.Equal(t, []string{"subject", "due_at"}, upd.Paths)

	_, err = protomap.TaskUpdateFromProto(&leadsv1.Task{Priority: 99}, &fieldmaskpb.FieldMask{Paths: []string{"status", "id", "nope", "priority"}})
	assert.Equal(t, []string{"update_mask.paths[0]", "update_mask.paths[1]", "update_mask.paths[2]", "priority"}, violations(t, err))
}
