package rule

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/evcrm/evcrm/libs/apperr"
)

// Definition is the part of a rule its author writes: what Create and Update take.
type Definition struct {
	Name        string
	Description string
	Enabled     bool
	EventType   string
	Condition   string
	Actions     []Action
}

// normalize trims the free-text fields.
func normalize(d Definition) Definition {
	d.Name = strings.TrimSpace(d.Name)
	d.EventType = strings.TrimSpace(d.EventType)
	for i := range d.Actions {
		a := &d.Actions[i]
		a.CampaignID, a.Tag, a.OwnerID = strings.TrimSpace(a.CampaignID), strings.TrimSpace(a.Tag), strings.TrimSpace(a.OwnerID)
		a.TerritoryID, a.Subject = strings.TrimSpace(a.TerritoryID), strings.TrimSpace(a.Subject)
		a.TemplateID, a.Recipient = strings.TrimSpace(a.TemplateID), strings.TrimSpace(a.Recipient)
	}
	return d
}

// Validate checks a definition against the catalogue of event types and returns an Invalid
// error whose field paths are those of crm.campaign.v1.Rule ("trigger.event_type",
// "condition", "actions[2].add_tag.tag"). A condition that does not compile is reported on
// "condition" with the column of the problem.
func Validate(d Definition, cat Catalog) error {
	var v apperr.Violations
	validate(normalize(d), cat, &v)
	return v.Err("invalid rule")
}

func validate(d Definition, cat Catalog, v *apperr.Violations) {
	switch n := utf8.RuneCountInString(d.Name); {
	case n == 0:
		v.Add("name", "required")
	case n > MaxName:
		v.Add("name", "at most %d characters", MaxName)
	}
	if utf8.RuneCountInString(d.Description) > MaxDescription {
		v.Add("description", "at most %d characters", MaxDescription)
	}
	schema, known := cat[d.EventType]
	switch {
	case d.EventType == "":
		v.Add("trigger.event_type", "required, e.g. LeadCreated")
	case !known:
		v.Add("trigger.event_type", "unknown event type %q", d.EventType)
	}
	if len(d.Condition) > MaxCondition {
		v.Add("condition", "at most %d bytes", MaxCondition)
	} else if known {
		if _, err := Compile(d.Condition, schema); err != nil {
			v.Add("condition", "%s", err.Error())
		}
	} else if err := Parse(d.Condition); err != nil {
		v.Add("condition", "%s", err.Error())
	}
	switch {
	case len(d.Actions) == 0:
		v.Add("actions", "at least one action is required")
	case len(d.Actions) > MaxActions:
		v.Add("actions", "at most %d actions", MaxActions)
	}
	for i, a := range d.Actions {
		validateAction(fmt.Sprintf("actions[%d]", i), a, schema, known, v)
	}
}

func validateAction(at string, a Action, schema EventSchema, known bool, v *apperr.Violations) {
	p := at + "." + a.Kind.String()
	needs := func(what string, ok bool) {
		if known && !ok {
			v.Add(at, "%s needs an event about %s; this trigger's events are not", a.Kind, what)
		}
	}
	id := func(field, val string) {
		switch {
		case val == "":
			v.Add(p+"."+field, "required")
		case !validID(val):
			v.Add(p+"."+field, "must be 1 to %d characters of A-Z a-z 0-9 _ -", maxIDLen)
		}
	}
	text := func(field, val string, required bool) {
		switch n := utf8.RuneCountInString(val); {
		case n == 0 && required:
			v.Add(p+"."+field, "required")
		case n > MaxText:
			v.Add(p+"."+field, "at most %d characters", MaxText)
		}
	}
	lead := schema.RecordType == RecordLead || schema.RecordType == RecordPerson
	person := lead || schema.RecordType == RecordContact
	switch a.Kind {
	case ActionAddToCampaign:
		id("campaign_id", a.CampaignID)
		needs("a lead or contact", person)
	case ActionAddTag, ActionRemoveTag:
		switch n := utf8.RuneCountInString(a.Tag); {
		case n == 0:
			v.Add(p+".tag", "required")
		case n > 64:
			v.Add(p+".tag", "at most 64 characters")
		}
		needs("a lead", lead)
	case ActionAssignOwner:
		switch {
		case a.OwnerID == "" && a.TerritoryID == "":
			v.Add(p+".owner_id", "set owner_id (or territory_id)")
		case a.OwnerID != "" && a.TerritoryID != "":
			v.Add(p+".territory_id", "set owner_id or territory_id, not both")
		case a.TerritoryID != "":
			// The leads API has no "assign through a territory's queue" command yet.
			v.Add(p+".territory_id", "assignment to a territory queue is not supported yet; set owner_id")
		case utf8.RuneCountInString(a.OwnerID) > 255:
			v.Add(p+".owner_id", "at most 255 characters")
		}
		needs("a lead", lead)
	case ActionCreateTask:
		text("subject", a.Subject, true)
		if utf8.RuneCountInString(a.Subject) > MaxName {
			v.Add(p+".subject", "at most %d characters", MaxName)
		}
		if a.DueIn < 0 || a.DueIn > MaxTaskDueIn {
			v.Add(p+".due_in", "between 0 and 365 days")
		}
		needs("a lead", lead)
	case ActionAutoRespond:
		id("campaign_id", a.CampaignID)
		text("template_id", a.TemplateID, true)
		needs("a lead or contact", person)
	case ActionNotify:
		text("recipient", a.Recipient, true)
		text("message", a.Message, true)
		if a.Recipient == RecipientOwner {
			needs("a record with an owner", schema.RecordType != RecordNone)
		}
	default:
		v.Add(at, "set one action (add_to_campaign, add_tag, remove_tag, assign_owner, create_task, auto_respond, notify)")
	}
}

// validID reports whether s can be an aggregate id (a subject token).
func validID(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// ValidID reports whether s can be a rule id.
func ValidID(s string) bool { return validID(s) }
