package protomap

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
)

// RuleToProto maps a rule to its API form.
func RuleToProto(r rule.Rule) *campaignv1.Rule {
	p := &campaignv1.Rule{Id: r.ID, Version: r.Version, Name: r.Name, Description: r.Description, Enabled: r.Enabled,
		Trigger: &campaignv1.Trigger{EventType: r.EventType}, Condition: r.Condition,
		CreatedAt: ruleTS(r.CreatedAt), UpdatedAt: ruleTS(r.UpdatedAt)}
	for _, a := range r.Actions {
		p.Actions = append(p.Actions, ActionToProto(a))
	}
	return p
}

// RuleFromProto maps the API form back (the stored RuleSaved payload included).
func RuleFromProto(p *campaignv1.Rule) rule.Rule {
	d := DefinitionFromProto(p)
	return rule.Rule{ID: p.GetId(), Version: p.GetVersion(), Name: d.Name, Description: d.Description, Enabled: d.Enabled,
		EventType: d.EventType, Condition: d.Condition, Actions: d.Actions,
		CreatedAt: ruleTime(p.GetCreatedAt()), UpdatedAt: ruleTime(p.GetUpdatedAt())}
}

// DefinitionFromProto takes the author-written part of a rule (output-only fields ignored).
func DefinitionFromProto(p *campaignv1.Rule) rule.Definition {
	d := rule.Definition{Name: p.GetName(), Description: p.GetDescription(), Enabled: p.GetEnabled(),
		EventType: p.GetTrigger().GetEventType(), Condition: p.GetCondition()}
	for _, a := range p.GetActions() {
		d.Actions = append(d.Actions, ActionFromProto(a))
	}
	return d
}

// ActionToProto maps one action.
func ActionToProto(a rule.Action) *campaignv1.Action {
	switch a.Kind {
	case rule.ActionAddToCampaign:
		return &campaignv1.Action{Action: &campaignv1.Action_AddToCampaign{AddToCampaign: &campaignv1.AddToCampaign{CampaignId: a.CampaignID}}}
	case rule.ActionAddTag:
		return &campaignv1.Action{Action: &campaignv1.Action_AddTag{AddTag: &campaignv1.AddTag{Tag: a.Tag}}}
	case rule.ActionRemoveTag:
		return &campaignv1.Action{Action: &campaignv1.Action_RemoveTag{RemoveTag: &campaignv1.RemoveTag{Tag: a.Tag}}}
	case rule.ActionAssignOwner:
		return &campaignv1.Action{Action: &campaignv1.Action_AssignOwner{AssignOwner: &campaignv1.AssignOwner{OwnerId: a.OwnerID, TerritoryId: a.TerritoryID}}}
	case rule.ActionCreateTask:
		t := &campaignv1.CreateTask{Subject: a.Subject}
		if a.DueIn != 0 {
			t.DueIn = durationpb.New(a.DueIn)
		}
		return &campaignv1.Action{Action: &campaignv1.Action_CreateTask{CreateTask: t}}
	case rule.ActionAutoRespond:
		return &campaignv1.Action{Action: &campaignv1.Action_AutoRespond{AutoRespond: &campaignv1.AutoRespond{CampaignId: a.CampaignID, TemplateId: a.TemplateID}}}
	case rule.ActionNotify:
		return &campaignv1.Action{Action: &campaignv1.Action_Notify{Notify: &campaignv1.Notify{Recipient: a.Recipient, Message: a.Message}}}
	}
	return &campaignv1.Action{}
}

// ActionFromProto maps one action; an empty oneof is ActionUnspecified (validation names it).
func ActionFromProto(p *campaignv1.Action) rule.Action {
	switch x := p.GetAction().(type) {
	case *campaignv1.Action_AddToCampaign:
		return rule.Action{Kind: rule.ActionAddToCampaign, CampaignID: x.AddToCampaign.GetCampaignId()}
	case *campaignv1.Action_AddTag:
		return rule.Action{Kind: rule.ActionAddTag, Tag: x.AddTag.GetTag()}
	case *campaignv1.Action_RemoveTag:
		return rule.Action{Kind: rule.ActionRemoveTag, Tag: x.RemoveTag.GetTag()}
	case *campaignv1.Action_AssignOwner:
		return rule.Action{Kind: rule.ActionAssignOwner, OwnerID: x.AssignOwner.GetOwnerId(), TerritoryID: x.AssignOwner.GetTerritoryId()}
	case *campaignv1.Action_CreateTask:
		var due time.Duration
		if d := x.CreateTask.GetDueIn(); d != nil {
			due = d.AsDuration()
		}
		return rule.Action{Kind: rule.ActionCreateTask, Subject: x.CreateTask.GetSubject(), DueIn: due}
	case *campaignv1.Action_AutoRespond:
		return rule.Action{Kind: rule.ActionAutoRespond, CampaignID: x.AutoRespond.GetCampaignId(), TemplateID: x.AutoRespond.GetTemplateId()}
	case *campaignv1.Action_Notify:
		return rule.Action{Kind: rule.ActionNotify, Recipient: x.Notify.GetRecipient(), Message: x.Notify.GetMessage()}
	}
	return rule.Action{}
}

// RuleRequestError renames the domain's field paths (relative to a Rule) to those of a
// request that carries the rule in its field "rule".
func RuleRequestError(err error) error {
	return apperr.RenameFields(err, func(f string) string { return "rule." + f })
}

// RuleCodec maps rule events to crm.campaign.v1 payloads and back.
type RuleCodec struct{}

var _ eventstore.Codec[rule.Event] = RuleCodec{}

// OccurredAt is when the change was made.
func (RuleCodec) OccurredAt(e rule.Event) time.Time {
	switch e := e.(type) {
	case rule.Saved:
		return e.Rule.UpdatedAt
	case rule.EnabledChanged:
		return e.At
	case rule.Deleted:
		return e.At
	}
	return time.Time{}
}

// Encode maps a domain event to its payload.
func (RuleCodec) Encode(e rule.Event) (proto.Message, error) {
	switch e := e.(type) {
	case rule.Saved:
		return &campaignv1.RuleSaved{Rule: RuleToProto(e.Rule)}, nil
	case rule.EnabledChanged:
		return &campaignv1.RuleEnabledChanged{Enabled: e.Enabled}, nil
	case rule.Deleted:
		return &campaignv1.RuleDeleted{}, nil
	}
	return nil, fmt.Errorf("protomap: unknown rule event %T", e)
}

// Decode maps a stored event back; the times of the payload-less events come from the
// envelope.
func (RuleCodec) Decode(r eventstore.Recorded) (rule.Event, error) {
	msg, err := r.Payload()
	if err != nil {
		return nil, err
	}
	at := r.Envelope.GetOccurredAt().AsTime()
	switch m := msg.(type) {
	case *campaignv1.RuleSaved:
		return rule.Saved{Rule: RuleFromProto(m.GetRule())}, nil
	case *campaignv1.RuleEnabledChanged:
		return rule.EnabledChanged{Enabled: m.GetEnabled(), At: at}, nil
	case *campaignv1.RuleDeleted:
		return rule.Deleted{At: at}, nil
	}
	return nil, fmt.Errorf("protomap: %s is not a rule event", r.Envelope.GetEventType())
}

func ruleTS(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func ruleTime(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}
