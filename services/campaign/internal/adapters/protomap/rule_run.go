package protomap

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
)

// OutcomeToProto maps a run outcome (the numbers agree).
func OutcomeToProto(o rule.Outcome) campaignv1.RuleRunOutcome { return campaignv1.RuleRunOutcome(o) }

// OutcomeFromProto maps a run outcome back.
func OutcomeFromProto(o campaignv1.RuleRunOutcome) rule.Outcome { return rule.Outcome(o) }

// RunToProto maps a run-log entry.
func RunToProto(r rule.Run) *campaignv1.RuleRun {
	return &campaignv1.RuleRun{RuleId: r.RuleID, RuleVersion: r.RuleVersion, EventId: r.EventID, EventType: r.EventType,
		RecordId: r.RecordID, Outcome: OutcomeToProto(r.Outcome), Actions: r.Actions, Error: r.Error, At: ruleTS(r.At)}
}

// RunFromProto maps a run-log entry back.
func RunFromProto(p *campaignv1.RuleRun) rule.Run {
	return rule.Run{RuleID: p.GetRuleId(), RuleVersion: p.GetRuleVersion(), EventID: p.GetEventId(), EventType: p.GetEventType(),
		RecordID: p.GetRecordId(), Outcome: OutcomeFromProto(p.GetOutcome()), Actions: p.GetActions(), Error: p.GetError(),
		At: ruleTime(p.GetAt())}
}

// RunEvents are the events of one run, appended together to the run's aggregate: the run
// itself and the requests its actions made (EmailRequested, NotificationRequested).
type RunEvents struct {
	Run rule.Run
	// Requests are EmailRequested and NotificationRequested payloads.
	Requests []proto.Message
}

// Encode returns the payloads to append, RuleRunRecorded first.
func (e RunEvents) Encode() []eventstore.Event {
	out := []eventstore.Event{{Payload: &campaignv1.RuleRunRecorded{Run: RunToProto(e.Run)}, OccurredAt: e.Run.At}}
	for _, m := range e.Requests {
		out = append(out, eventstore.Event{Payload: m, OccurredAt: e.Run.At})
	}
	return out
}

// DecodeRun returns the run of a RuleRunRecorded event, ok false for the other events of the
// run aggregate.
func DecodeRun(r eventstore.Recorded) (rule.Run, bool, error) {
	msg, err := r.Payload()
	if err != nil {
		return rule.Run{}, false, err
	}
	switch m := msg.(type) {
	case *campaignv1.RuleRunRecorded:
		return RunFromProto(m.GetRun()), true, nil
	case *campaignv1.EmailRequested, *campaignv1.NotificationRequested:
		return rule.Run{}, false, nil
	}
	return rule.Run{}, false, fmt.Errorf("protomap: %s is not a rule run event", r.Envelope.GetEventType())
}
