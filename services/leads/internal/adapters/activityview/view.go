// Package activityview keeps the activities read model (adapters/activitymodel) up to date from
// the CRM_LEADS stream and answers the application's activity, task and timeline queries from
// it. It follows leads, contacts and accounts only to write their timeline entries (decoding
// the crm.leads.v1 payloads by event type, so it does not depend on those aggregates' folds),
// and folds activities and tasks with their domain's Apply. From the same events it keeps each
// record's owner and territory (scope.go, which takes the field paths an update names from the
// account and contact domains), which the row-level rules judge activities and tasks by.
package activityview

import (
	"context"
	"errors"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/activitymodel"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
	"github.com/evcrm/evcrm/services/leads/internal/domain/task"
)

// Stream is the stream the view is built from.
const Stream = "CRM_LEADS"

// Subjects are the aggregates the view follows.
var Subjects = []string{"crm.*.lead.>", "crm.*.contact.>", "crm.*.account.>", "crm.*.activity.>", "crm.*.task.>"}

// recordTypes maps the aggregate types whose own events go on their timeline.
var recordTypes = map[string]activity.RecordType{
	"lead": activity.RecordLead, "contact": activity.RecordContact, "account": activity.RecordAccount,
}

// View is both the projector (a projection.CheckpointHandler) and the query side.
type View struct {
	projection.ReadWaiter
	store *activitymodel.Store
}

// New returns the view over store.
func New(store *activitymodel.Store) *View {
	return &View{store: store, ReadWaiter: projection.NewReadWaiter(store, Stream)}
}

// Checkpoint is the last applied sequence per stream, stored with the rows.
func (v *View) Checkpoint(ctx context.Context) (map[string]uint64, error) {
	return v.store.Checkpoint(ctx)
}

type key struct{ tenant, id string }

// batch collects what one projector batch writes; tasks are folded in memory across the batch.
type batch struct {
	out       activitymodel.Batch
	tasks     map[key]*task.Task
	taskOrder []key
	taskSeq   map[key]uint64
}

// Handle folds a batch into rows and timeline entries and stores them with the batch's last
// sequence in one transaction. An event whose payload does not decode is poison.
func (v *View) Handle(ctx context.Context, events []projection.Event) error {
	if len(events) == 0 {
		return nil
	}
	b := batch{tasks: map[key]*task.Task{}, taskSeq: map[key]uint64{}}
	var poison []error
	for _, e := range events {
		rec := eventstore.Recorded{Envelope: e.Envelope, Subject: e.Subject, Stream: e.Stream, Sequence: e.Sequence, Stored: e.Stored}
		var err error
		switch t := e.Envelope.GetAggregateType(); t {
		case activity.AggregateType:
			err = v.activity(&b, rec, e)
		case task.AggregateType:
			err = v.task(ctx, &b, rec, e)
		default:
			if rt, ok := recordTypes[t]; ok {
				err = v.record(&b, rt, rec, e)
			}
		}
		var pe *projection.PoisonError
		if errors.As(err, &pe) {
			poison = append(poison, err)
			continue
		}
		if err != nil {
			return err
		}
	}
	for _, k := range b.taskOrder {
		b.out.Tasks = append(b.out.Tasks, activitymodel.TaskRow{Tenant: k.tenant, Task: *b.tasks[k], Seq: b.taskSeq[k]})
	}
	if err := v.store.Apply(ctx, events[0].Stream, events[len(events)-1].Sequence, b.out); err != nil {
		return err
	}
	return errors.Join(poison...)
}

func entry(rec eventstore.Recorded, r activity.RecordRef) activitymodel.Entry {
	env := rec.Envelope
	return activitymodel.Entry{Tenant: env.GetTenantId(), Record: r, At: env.GetOccurredAt().AsTime(), Sequence: rec.Sequence,
		EventID: env.GetEventId(), EventType: env.GetEventType(), Actor: env.GetActor().GetId()}
}

func (v *View) record(b *batch, rt activity.RecordType, rec eventstore.Recorded, e projection.Event) error {
	msg, err := rec.Payload()
	if err != nil {
		return projection.Poison(e, "decode payload: "+err.Error())
	}
	self := activity.RecordRef{Type: rt, ID: rec.Envelope.GetAggregateId()}
	en := entry(rec, self)
	en.Summary = recordSummary(msg)
	b.out.Entries = append(b.out.Entries, en)
	if sc, ok := recordScope(msg); ok {
		sc.Tenant, sc.Record, sc.Seq = rec.Envelope.GetTenantId(), self, rec.Sequence
		b.out.Scopes = append(b.out.Scopes, sc)
	}
	// A conversion is part of the history of the records the lead became, too.
	if c, ok := msg.(*leadsv1.LeadConverted); ok {
		from := "Converted from lead " + rec.Envelope.GetAggregateId()
		for _, r := range []activity.RecordRef{
			{Type: activity.RecordAccount, ID: c.GetAccountId()},
			{Type: activity.RecordContact, ID: c.GetContactId()},
			{Type: activity.RecordOpportunity, ID: c.GetOpportunityId()},
		} {
			if r.ID == "" {
				continue
			}
			en := entry(rec, r)
			en.Summary, en.ConvertedFrom = from, rec.Envelope.GetAggregateId()
			b.out.Entries = append(b.out.Entries, en)
		}
	}
	return nil
}

func (v *View) activity(b *batch, rec eventstore.Recorded, e projection.Event) error {
	ev, err := protomap.ActivityCodec{}.Decode(rec)
	if err != nil {
		return projection.Poison(e, "decode activity event: "+err.Error())
	}
	a := activity.Apply(activity.Activity{Version: rec.Envelope.GetAggregateVersion() - 1}, ev)
	tenant := rec.Envelope.GetTenantId()
	b.out.Activities = append(b.out.Activities, activitymodel.ActivityRow{Tenant: tenant, Activity: a, Seq: rec.Sequence})
	for _, r := range a.Records {
		en := entry(rec, r)
		// An activity sits on the timeline when it happened, not when it was logged.
		en.At, en.Summary, en.Activity = a.OccurredAt, activitySummary(a), &a
		b.out.Entries = append(b.out.Entries, en)
	}
	return nil
}

func (v *View) task(ctx context.Context, b *batch, rec eventstore.Recorded, e projection.Event) error {
	env := rec.Envelope
	k := key{env.GetTenantId(), env.GetAggregateId()}
	cur, ok := b.tasks[k]
	if !ok {
		cur = &task.Task{}
		if env.GetAggregateVersion() != 1 {
			t, err := v.store.GetTask(ctx, k.tenant, k.id, nil)
			if err != nil && apperr.KindOf(err) != apperr.NotFound {
				return err
			}
			*cur = t
		}
		b.tasks[k] = cur
		b.taskOrder = append(b.taskOrder, k)
	}
	if env.GetAggregateVersion() <= cur.Version {
		return nil // applied before (a replayed batch)
	}
	ev, err := protomap.TaskCodec{}.Decode(rec)
	if err != nil {
		return projection.Poison(e, "decode task event: "+err.Error())
	}
	before := *cur
	*cur = task.Apply(*cur, ev)
	b.taskSeq[k] = rec.Sequence
	after := *cur
	records := []activity.RecordRef{after.Record}
	if before.Record != after.Record && !before.Record.IsZero() {
		// A task moved to another record leaves a trace on the one it left.
		records = append(records, before.Record)
	}
	for _, r := range records {
		if r.IsZero() {
			continue
		}
		en := entry(rec, r)
		en.Summary, en.Task = taskSummary(ev, after), &after
		b.out.Entries = append(b.out.Entries, en)
	}
	return nil
}

// GetActivity returns one activity in scope (nil: any).
func (v *View) GetActivity(ctx context.Context, tenant, id string, scope *activitymodel.Scope) (activity.Activity, error) {
	return v.store.GetActivity(ctx, tenant, id, scope)
}

// ListActivities lists activities, newest first.
func (v *View) ListActivities(ctx context.Context, q activitymodel.ActivityQuery) ([]activity.Activity, string, error) {
	return v.store.ListActivities(ctx, q)
}

// GetTask returns one task in scope (nil: any).
func (v *View) GetTask(ctx context.Context, tenant, id string, scope *activitymodel.Scope) (task.Task, error) {
	return v.store.GetTask(ctx, tenant, id, scope)
}

// ListTasks lists tasks by due date.
func (v *View) ListTasks(ctx context.Context, q activitymodel.TaskQuery) ([]task.Task, string, error) {
	return v.store.ListTasks(ctx, q)
}

// Timeline returns a record's timeline, newest first.
func (v *View) Timeline(ctx context.Context, q activitymodel.TimelineQuery) ([]activitymodel.Entry, string, error) {
	return v.store.Timeline(ctx, q)
}
