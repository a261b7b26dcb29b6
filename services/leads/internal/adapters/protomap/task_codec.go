package protomap

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/task"
)

// TaskCodec is the eventstore.Codec of the task aggregate. Like LeadCodec, an event's At
// travels in the envelope (occurred_at).
type TaskCodec struct{}

var (
	_ eventstore.Codec[task.Event]        = TaskCodec{}
	_ eventstore.OccurredAter[task.Event] = TaskCodec{}
)

// OccurredAt is when a task event happened (eventstore.OccurredAter).
func (TaskCodec) OccurredAt(e task.Event) time.Time { return e.OccurredAt() }

// Encode implements eventstore.Codec.
func (TaskCodec) Encode(e task.Event) (proto.Message, error) {
	switch e := e.(type) {
	case task.TaskCreated:
		return &leadsv1.TaskCreated{Task: TaskToProto(e.Task)}, nil
	case task.TaskUpdated:
		return &leadsv1.TaskUpdated{ChangedFields: cloneOrNil(e.Changed), Before: TaskToProto(e.Before), After: TaskToProto(e.After)}, nil
	case task.TaskStatusChanged:
		return &leadsv1.TaskStatusChanged{From: leadsv1.TaskStatus(e.From), To: leadsv1.TaskStatus(e.To), Note: e.Note,
			AssigneeId: e.AssigneeID, Record: RecordRefToProto(e.Record)}, nil
	case nil:
		return nil, fmt.Errorf("protomap: encode nil task event")
	}
	return nil, fmt.Errorf("protomap: no mapping for task event %T", e)
}

// Decode implements eventstore.Codec. At is the envelope's occurred_at.
func (TaskCodec) Decode(r eventstore.Recorded) (task.Event, error) {
	msg, err := r.Payload()
	if err != nil {
		return nil, err
	}
	at := fromTS(r.Envelope.GetOccurredAt())
	switch m := msg.(type) {
	case *leadsv1.TaskCreated:
		return task.TaskCreated{Task: TaskFromProto(m.GetTask()), At: at}, nil
	case *leadsv1.TaskUpdated:
		return task.TaskUpdated{Changed: cloneOrNil(m.GetChangedFields()), Before: TaskFromProto(m.GetBefore()),
			After: TaskFromProto(m.GetAfter()), At: at}, nil
	case *leadsv1.TaskStatusChanged:
		return task.TaskStatusChanged{From: task.Status(m.GetFrom()), To: task.Status(m.GetTo()), Note: m.GetNote(),
			AssigneeID: m.GetAssigneeId(), Record: RecordRefFromProto(m.GetRecord()), At: at}, nil
	}
	return nil, fmt.Errorf("protomap: %s is not a task event", r.Envelope.GetEventType())
}
