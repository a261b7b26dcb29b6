// Package rule is the automation rule aggregate (aggregate "rule"): a trigger (an event type of
// the CRM streams), a condition over the event and its record in a small expression language
// (lexer.go, parser.go, eval.go), and one to ten actions. It also decides what one run of a rule
// does for one event (run.go). Pure Go: the catalogue of event types and their fields is built
// from the protobuf registry by the adapters and passed in.
package rule

import "time"

// AggregateType is the rule aggregate's type; RunAggregateType is that of the run log, one
// aggregate per (rule, event).
const (
	AggregateType    = "rule"
	RunAggregateType = "rulerun"
)

// Limits of a rule's definition.
const (
	MaxName        = 255
	MaxDescription = 4096
	MaxCondition   = 4096
	MaxActions     = 10
	MaxText        = 1024
	MaxTaskDueIn   = 365 * 24 * time.Hour
	maxIDLen       = 64
)

// Rule is an automation rule as saved.
type Rule struct {
	ID          string
	Version     uint64
	Name        string
	Description string
	Enabled     bool
	// EventType is the trigger: the short type of the event, e.g. "LeadCreated".
	EventType string
	// Condition is the expression text; empty means always.
	Condition string
	Actions   []Action
	CreatedAt time.Time
	UpdatedAt time.Time
	// Deleted is set once RuleDeleted is recorded; a deleted rule is gone for every query.
	Deleted bool
}

// Exists reports whether the rule has been created and not deleted.
func (r Rule) Exists() bool { return r.Version > 0 && !r.Deleted }

// ActionKind says what an action does.
type ActionKind int

// The actions of the proto's Action oneof, in its order.
const (
	ActionUnspecified ActionKind = iota
	ActionAddToCampaign
	ActionAddTag
	ActionRemoveTag
	ActionAssignOwner
	ActionCreateTask
	ActionAutoRespond
	ActionNotify
)

var actionNames = [...]string{"unspecified", "add_to_campaign", "add_tag", "remove_tag", "assign_owner",
	"create_task", "auto_respond", "notify"}

// String is the action's proto field name, e.g. "add_tag".
func (k ActionKind) String() string {
	if k >= 0 && int(k) < len(actionNames) {
		return actionNames[k]
	}
	return "unknown"
}

// Action is one thing a rule does; the fields its Kind uses are set.
type Action struct {
	Kind ActionKind
	// CampaignID: add_to_campaign, auto_respond.
	CampaignID string
	// Tag: add_tag, remove_tag.
	Tag string
	// OwnerID or TerritoryID: assign_owner.
	OwnerID     string
	TerritoryID string
	// Subject and DueIn: create_task.
	Subject string
	DueIn   time.Duration
	// TemplateID: auto_respond.
	TemplateID string
	// Recipient ("owner" or a user id) and Message: notify.
	Recipient string
	Message   string
}

// RecipientOwner is the Notify recipient that stands for the record's owner.
const RecipientOwner = "owner"

// Event is a rule event: Saved, EnabledChanged or Deleted.
type Event interface{ isRuleEvent() }

// Saved records the rule as created or changed (RuleSaved). Rule carries the whole definition;
// its Version is set by Apply.
type Saved struct{ Rule Rule }

// EnabledChanged turns the rule on or off (RuleEnabledChanged).
type EnabledChanged struct {
	Enabled bool
	At      time.Time
}

// Deleted removes the rule (RuleDeleted).
type Deleted struct{ At time.Time }

func (Saved) isRuleEvent()          {}
func (EnabledChanged) isRuleEvent() {}
func (Deleted) isRuleEvent()        {}

// Apply folds one event into the rule. It never modifies s's Actions slice in place.
func Apply(s Rule, e Event) Rule {
	switch e := e.(type) {
	case Saved:
		created, version := s.CreatedAt, s.Version
		s = e.Rule
		s.Version = version
		s.Actions = append([]Action(nil), e.Rule.Actions...)
		if !created.IsZero() {
			s.CreatedAt = created
		}
	case EnabledChanged:
		s.Enabled = e.Enabled
		s.UpdatedAt = e.At
	case Deleted:
		s.Deleted = true
		s.Enabled = false
		s.UpdatedAt = e.At
	}
	s.Version++
	return s
}
