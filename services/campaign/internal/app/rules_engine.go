package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
)

// RuleEngineActor is the service principal rule actions run as.
const RuleEngineActor = "campaign-rules"

// RuleEvent is an event of a CRM stream as the rule engine sees it.
type RuleEvent struct {
	Tenant        string
	EventID       string
	EventType     string // short type, e.g. "LeadCreated"
	AggregateType string
	AggregateID   string
	CorrelationID string
	CausationID   string
	// At is when the log stored the event.
	At time.Time
	// LeadsSequence is the event's sequence in CRM_LEADS (0 for the other streams): the record
	// is read as of at least this sequence, so it includes the event.
	LeadsSequence uint64
	// Payload is the event message as a value tree (protomap.RuleValues).
	Payload map[string]any
	// PersonType and PersonID name the lead or contact of a campaign member event.
	PersonType member.Type
	PersonID   string
}

// record returns the type and id of the record the event is about, ok false for none.
func (ev RuleEvent) record() (member.Type, string, bool) {
	switch {
	case ev.AggregateType == "lead":
		return member.TypeLead, ev.AggregateID, true
	case ev.AggregateType == "contact":
		return member.TypeContact, ev.AggregateID, true
	case ev.PersonID != "":
		return ev.PersonType, ev.PersonID, true
	}
	return 0, "", false
}

// ruleConditions caches conditions by rule id and version: a version's condition never changes.
var ruleConditions sync.Map // conditionKey → rule.Condition

type conditionKey struct {
	tenant, id string
	version    uint64
}

func (a *App) condition(tenant string, r rule.Rule) (rule.Condition, error) {
	k := conditionKey{tenant, r.ID, r.Version}
	if c, ok := ruleConditions.Load(k); ok {
		return c.(rule.Condition), nil
	}
	c, err := rule.Compile(r.Condition, a.d.Rules.Catalog[r.EventType])
	if err != nil {
		return rule.Condition{}, err
	}
	ruleConditions.Store(k, c)
	return c, nil
}

// RunRules runs the tenant's enabled rules that trigger on ev: exactly once in effect per
// (rule, event) however often ev is delivered. Each action carries an idempotency key derived
// from (rule, event, action index); the run is recorded as the first event of a new rulerun
// aggregate whose id is derived from (rule, event), so a second recording is refused by the
// store. An error means "retry the event"; whatever already ran is not repeated in effect.
func (a *App) RunRules(ctx context.Context, ev RuleEvent) error {
	rules, err := a.d.Rules.Views.TriggeredBy(ctx, ev.Tenant, ev.EventType)
	if err != nil || len(rules) == 0 {
		return err
	}
	ctx = a.engineContext(ctx, ev)
	var rec Record
	var recErr error
	recOnce := sync.OnceFunc(func() { rec, recErr = a.ruleRecord(ctx, ev) })
	for _, r := range rules {
		// A rule acts on the events recorded after it was created, never on older ones a
		// lagging engine still has to go through.
		if ev.At.Before(r.CreatedAt) {
			continue
		}
		recOnce()
		if recErr != nil {
			return recErr
		}
		if err := a.runRule1(ctx, ev, r, rec); err != nil {
			return fmt.Errorf("rule %s on event %s: %w", r.ID, ev.EventID, err)
		}
	}
	return nil
}

// engineContext is the context rule actions run under: the tenant, the engine as actor, and
// the triggering event's correlation id, which every service forwards into the envelopes of
// the events the actions cause.
func (a *App) engineContext(ctx context.Context, ev RuleEvent) context.Context {
	ctx = reqctx.WithTenant(ctx, ev.Tenant)
	ctx = reqctx.WithActor(ctx, reqctx.Actor{Type: reqctx.ActorService, ID: RuleEngineActor})
	if ev.CorrelationID != "" {
		ctx = reqctx.WithCorrelationID(ctx, ev.CorrelationID)
	}
	return eventstore.WithMetadata(ctx, eventstore.Metadata{CorrelationID: ev.CorrelationID,
		Actor: &eventsv1.Actor{Type: eventsv1.ActorType_ACTOR_TYPE_SERVICE, Id: RuleEngineActor}})
}

// ruleRecord reads the event's record; a record that does not exist is empty (conditions on it
// see null), other failures are returned for a retry.
func (a *App) ruleRecord(ctx context.Context, ev RuleEvent) (Record, error) {
	t, id, ok := ev.record()
	if !ok || a.d.Rules.Leads == nil {
		return Record{}, nil
	}
	rec, err := a.d.Rules.Leads.Record(reqctx.WithTenant(ctx, ev.Tenant), t, id, ev.LeadsSequence)
	if apperr.KindOf(err) == apperr.NotFound {
		return Record{ID: id}, nil
	}
	if err != nil {
		return Record{}, err
	}
	rec.ID = id
	return rec, nil
}

func (a *App) runRule1(ctx context.Context, ev RuleEvent, r rule.Rule, rec Record) error {
	runID := rule.RunID(r.ID, ev.EventID)
	ref := eventstore.Ref{Tenant: ev.Tenant, Type: rule.RunAggregateType, ID: runID}
	// A run in the log is done: a redelivery, or a consumer replayed from the start long after
	// the other services forgot the actions' idempotency keys (24 h), must not run the actions
	// again (a second task, a tag a user removed since put back) nor decide again on a record
	// that has changed since.
	if _, done, err := a.d.Rules.Store.Last(ctx, ref); err != nil || done {
		return err
	}
	run := rule.Run{RuleID: r.ID, RuleVersion: r.Version, EventID: ev.EventID, EventType: ev.EventType,
		RecordID: rec.ID, At: a.now(ctx)}
	cond, err := a.condition(ev.Tenant, r)
	if err != nil {
		// The protos lost a field the rule names: the rule can never run; say so in the log.
		run.Outcome, run.Error = rule.OutcomeFailed, "condition: "+err.Error()
		return a.recordRun(ctx, ref, protomap.RunEvents{Run: run})
	}
	d := rule.Evaluate(r, cond, rule.Values{Event: ev.Payload, Record: rec.Values}, false)
	if d.Outcome == rule.OutcomeFired {
		root := ev.EventID
		if pr, pe, ok := rule.ParseActionKey(ev.CausationID); ok {
			root = pe
			if known, ok, err := a.d.Rules.Chains.Root(ctx, ev.Tenant, pr, pe); err != nil {
				return err
			} else if ok {
				root = known
			}
		}
		first, err := a.d.Rules.Chains.Enter(ctx, ev.Tenant, r.ID, root, ev.EventID)
		if err != nil {
			return err
		}
		if !first {
			d = rule.Evaluate(r, cond, rule.Values{Event: ev.Payload, Record: rec.Values}, true)
			a.d.Rules.Log.WarnContext(ctx, "rule cycle stopped", "tenant", ev.Tenant, "rule_id", r.ID,
				"event_id", ev.EventID, "event_type", ev.EventType, "chain_root", root, "correlation_id", ev.CorrelationID)
		}
	}
	run.Outcome = d.Outcome
	var requests []proto.Message
	for i, act := range d.Actions {
		line, req, err := a.runAction(ctx, ev, r, rec, i, act)
		if err != nil {
			if !permanent(err) {
				return err
			}
			run.Outcome = rule.OutcomeFailed
			if run.Error == "" {
				run.Error = fmt.Sprintf("action %d (%s): %s", i, act.Kind, publicMessage(err))
			}
			line = rule.Describe(act) + ": failed: " + publicMessage(err)
		}
		run.Actions = append(run.Actions, line)
		if req != nil {
			requests = append(requests, req)
		}
	}
	return a.recordRun(ctx, ref, protomap.RunEvents{Run: run, Requests: requests})
}

// recordRun appends the run as a new aggregate. A run recorded before (a redelivery after the
// append) is refused by the store's sequence check: that is success.
func (a *App) recordRun(ctx context.Context, ref eventstore.Ref, evs protomap.RunEvents) error {
	meta := eventstore.MetadataFrom(ctx)
	meta.CausationID = rule.ActionKey(evs.Run.RuleID, evs.Run.EventID, 0) + "/run"
	_, err := a.d.Rules.Store.Append(eventstore.WithMetadata(ctx, meta), ref, eventstore.Position{}, evs.Encode()...)
	if errors.Is(err, eventstore.ErrConcurrency) {
		return nil
	}
	if err == nil {
		a.d.Rules.Log.DebugContext(ctx, "rule run recorded", "tenant", ref.Tenant, "rule_id", evs.Run.RuleID,
			"event_id", evs.Run.EventID, "outcome", evs.Run.Outcome.String())
	}
	return err
}

// permanent reports whether an action's failure will not pass with a retry: the request was
// refused (bad input, missing record, wrong state), not lost.
func permanent(err error) bool {
	switch apperr.KindOf(err) {
	case apperr.Invalid, apperr.NotFound, apperr.FailedPrecondition, apperr.PermissionDenied, apperr.AlreadyExists:
		return true
	}
	return false
}

func publicMessage(err error) string {
	if e, ok := apperr.As(err); ok {
		return e.Error()
	}
	return "internal error"
}

// runAction runs one action and returns its run-log line and, for auto_respond and notify, the
// request event to append with the run.
func (a *App) runAction(ctx context.Context, ev RuleEvent, r rule.Rule, rec Record, i int, act rule.Action) (string, proto.Message, error) {
	key := rule.ActionKey(r.ID, ev.EventID, i)
	line := rule.Describe(act)
	t, personID, hasPerson := ev.record()
	leadID := ""
	if hasPerson && t == member.TypeLead {
		leadID = personID
	}
	needLead := func() error {
		if leadID == "" {
			return apperr.Precondition("NOT_A_LEAD", "the event's record is not a lead")
		}
		return nil
	}
	switch act.Kind {
	case rule.ActionAddToCampaign:
		if !hasPerson {
			return "", nil, apperr.Precondition("NO_PERSON", "the event is about no lead or contact")
		}
		res, _, err := a.AddMembers(ctx, ev.Tenant, act.CampaignID, []Person{{Type: t, ID: personID}}, "rule:"+r.ID, Write{IdempotencyKey: key})
		if err != nil {
			return "", nil, err
		}
		return line + ": " + addOutcome(res[0]), nil, nil
	case rule.ActionAddTag:
		if err := needLead(); err != nil {
			return "", nil, err
		}
		return line + ": done", nil, a.d.Rules.Leads.AddTags(ctx, leadID, []string{act.Tag}, key)
	case rule.ActionRemoveTag:
		if err := needLead(); err != nil {
			return "", nil, err
		}
		return line + ": done", nil, a.d.Rules.Leads.RemoveTags(ctx, leadID, []string{act.Tag}, key)
	case rule.ActionAssignOwner:
		if err := needLead(); err != nil {
			return "", nil, err
		}
		return line + ": done", nil, a.d.Rules.Leads.Assign(ctx, leadID, act.OwnerID, "rule "+r.Name, key)
	case rule.ActionCreateTask:
		if err := needLead(); err != nil {
			return "", nil, err
		}
		if rec.OwnerID == "" {
			return "", nil, apperr.Precondition("NO_OWNER", "the lead has no owner to give the task to")
		}
		task := Task{Subject: act.Subject, AssigneeID: rec.OwnerID, LeadID: leadID}
		if act.DueIn > 0 {
			task.DueAt = ev.At.Add(act.DueIn)
		}
		return line + ": done", nil, a.d.Rules.Leads.CreateTask(ctx, task, key)
	case rule.ActionAutoRespond:
		if !hasPerson {
			return "", nil, apperr.Precondition("NO_PERSON", "the event is about no lead or contact")
		}
		c, err := a.cachedCampaign(ctx, ev.Tenant, act.CampaignID)
		if err != nil {
			return "", nil, err
		}
		_, err = a.RecordResponse(ctx, ev.Tenant, Response{CampaignID: act.CampaignID, Type: t, PersonID: personID,
			Status: sentStatus(c), OccurredAt: ev.At, Metadata: map[string]string{"rule_id": r.ID, "template_id": act.TemplateID}},
			Write{IdempotencyKey: key})
		if err != nil {
			return "", nil, err
		}
		return line + ": sent", &campaignv1.EmailRequested{CampaignId: act.CampaignID, TemplateId: act.TemplateID,
			RecipientType: campaignv1.MemberType(t), RecipientId: personID, RuleId: r.ID, EventId: ev.EventID}, nil
	case rule.ActionNotify:
		to := act.Recipient
		if to == rule.RecipientOwner {
			if rec.OwnerID == "" {
				return "", nil, apperr.Precondition("NO_OWNER", "the record has no owner to notify")
			}
			to = rec.OwnerID
		}
		return line + ": requested", &campaignv1.NotificationRequested{Recipient: to, Message: act.Message,
			RuleId: r.ID, EventId: ev.EventID, RecordId: rec.ID}, nil
	}
	return "", nil, apperr.New(apperr.Invalid, "unknown action %d", act.Kind)
}

// sentStatus is the name the campaign gives its SENT status ("sent" by default).
func sentStatus(c campaign.Campaign) string {
	for _, s := range c.MemberStatuses {
		if s.Kind == campaign.KindSent {
			return s.Name
		}
	}
	return "sent"
}

func addOutcome(r AddResult) string {
	switch r.Outcome {
	case AddAdded:
		return "added"
	case AddAlreadyMember:
		return "already a member"
	case AddSuppressed:
		return "suppressed (" + r.Reason + ")"
	case AddNotFound:
		return "not found"
	}
	return "done"
}

// HasRules reports whether the tenant has an enabled rule on eventType: the engine's fast path,
// which spares decoding the events no rule looks at.
func (a *App) HasRules(ctx context.Context, tenant, eventType string) (bool, error) {
	rules, err := a.d.Rules.Views.TriggeredBy(ctx, tenant, eventType)
	return len(rules) > 0, err
}
