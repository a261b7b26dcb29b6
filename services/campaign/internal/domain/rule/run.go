package rule

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Outcome is what a rule did for one event.
type Outcome int

// The outcomes of crm.campaign.v1.RuleRunOutcome.
const (
	OutcomeUnspecified Outcome = iota
	// OutcomeFired: the condition held and the actions ran.
	OutcomeFired
	// OutcomeSkipped: the condition did not hold.
	OutcomeSkipped
	// OutcomeFailed: an action failed for good; the others ran.
	OutcomeFailed
	// OutcomeCycleStopped: the event was caused by this rule's own actions (directly or through
	// other rules); the run was stopped to break the loop.
	OutcomeCycleStopped
)

var outcomeNames = [...]string{"UNSPECIFIED", "FIRED", "SKIPPED", "FAILED", "CYCLE_STOPPED"}

func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "UNKNOWN"
}

// Run is one evaluation of a rule for one event: an entry of the run log.
type Run struct {
	RuleID      string
	RuleVersion uint64
	EventID     string
	EventType   string
	RecordID    string
	Outcome     Outcome
	// Actions has one line per action, e.g. "add_tag us-lead: done".
	Actions []string
	Error   string
	At      time.Time
}

// Decision is what a rule does for one event, before any action runs.
type Decision struct {
	Outcome Outcome
	// Actions to take when Outcome is OutcomeFired.
	Actions []Action
}

// Decide decides one run: a disabled or deleted rule, or one whose trigger is another event
// type, does not run at all (ok false). Otherwise the condition decides between FIRED and
// SKIPPED, and a rule that would fire inside a chain it already fired in (inChain) is
// CYCLE_STOPPED instead: the loop is broken where it would start its second turn.
func Decide(r Rule, c Condition, eventType string, v Values, inChain bool) (Decision, bool) {
	if !r.Exists() || !r.Enabled || r.EventType != eventType {
		return Decision{}, false
	}
	return Evaluate(r, c, v, inChain), true
}

// Evaluate is Decide without the enabled and trigger checks (a dry run of an unsaved or
// disabled rule evaluates it as if it were on).
func Evaluate(r Rule, c Condition, v Values, inChain bool) Decision {
	switch {
	case !c.Holds(v):
		return Decision{Outcome: OutcomeSkipped}
	case inChain:
		return Decision{Outcome: OutcomeCycleStopped}
	}
	return Decision{Outcome: OutcomeFired, Actions: append([]Action(nil), r.Actions...)}
}

// Describe is the run-log line of an action before its result, e.g. "add_tag us-lead".
func Describe(a Action) string {
	arg := ""
	switch a.Kind {
	case ActionAddToCampaign:
		arg = a.CampaignID
	case ActionAddTag, ActionRemoveTag:
		arg = a.Tag
	case ActionAssignOwner:
		arg = a.OwnerID
	case ActionCreateTask:
		arg = strconv.Quote(a.Subject)
	case ActionAutoRespond:
		arg = a.CampaignID + " " + a.TemplateID
	case ActionNotify:
		arg = a.Recipient
	}
	return strings.TrimSpace(a.Kind.String() + " " + arg)
}

// RunID is the id of the run aggregate of (rule, event): derived, so a second run of the same
// pair addresses the same aggregate and the store refuses it.
func RunID(ruleID, eventID string) string {
	sum := sha256.Sum256([]byte(ruleID + "\x00" + eventID))
	return hex.EncodeToString(sum[:16])
}

// keyPrefix starts every idempotency key of a rule action; an event whose causation id starts
// with it was caused by a rule.
const keyPrefix = "rule:"

// ActionKey is the idempotency key of action index of rule's run for event. The services that
// execute the action record it as the causation id of the events it produces, which is how the
// engine recognises those events as caused by this run (ParseActionKey).
func ActionKey(ruleID, eventID string, index int) string {
	return keyPrefix + ruleID + ":" + eventID + ":" + strconv.Itoa(index)
}

// ParseActionKey returns the rule and the event of an action key, ok false for anything else
// (the causation id of an event no rule caused). What precedes the key and what follows the
// event id are ignored, so a service that derives its own causation ids from our keys
// ("resp:<key>", "<key>/<member>") is still recognised.
func ParseActionKey(key string) (ruleID, eventID string, ok bool) {
	i := strings.Index(key, keyPrefix)
	if i < 0 {
		return "", "", false
	}
	rest := key[i+len(keyPrefix):]
	parts := strings.SplitN(rest, ":", 3)
	if len(parts) < 3 || parts[0] == "" || parts[1] == "" {
		return "", "", false
	}
	return parts[0], parts[1], true
}
