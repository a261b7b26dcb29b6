package rule

import (
	"fmt"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
)

// ReasonNotFound is the Reason of the NotFound error for a rule that does not exist.
const ReasonNotFound = "RULE_NOT_FOUND"

// ErrNotFound is the error for a rule that does not exist or was deleted.
func ErrNotFound(id string) error {
	return &apperr.Error{Kind: apperr.NotFound, Reason: ReasonNotFound, Message: fmt.Sprintf("rule %q not found", id)}
}

func saved(id string, d Definition, enabled bool, created, now time.Time) Saved {
	return Saved{Rule: Rule{ID: id, Name: d.Name, Description: d.Description, Enabled: enabled,
		EventType: d.EventType, Condition: d.Condition, Actions: append([]Action(nil), d.Actions...),
		CreatedAt: created, UpdatedAt: now}}
}

// Create decides CreateRule for the new id.
func Create(s Rule, id string, d Definition, cat Catalog, now time.Time) ([]Event, error) {
	d = normalize(d)
	if err := Validate(d, cat); err != nil {
		return nil, err
	}
	if s.Version > 0 {
		return nil, apperr.Exists(fmt.Sprintf("rule %q already exists", id), id)
	}
	return []Event{saved(id, d, d.Enabled, now, now)}, nil
}

// Update decides UpdateRule: d replaces the definition; the rule stays enabled or disabled as
// it is. An unchanged definition yields no events.
func Update(s Rule, d Definition, cat Catalog, now time.Time) ([]Event, error) {
	if !s.Exists() {
		return nil, ErrNotFound(s.ID)
	}
	d = normalize(d)
	if err := Validate(d, cat); err != nil {
		return nil, err
	}
	if sameDefinition(s, d) {
		return nil, nil
	}
	return []Event{saved(s.ID, d, s.Enabled, s.CreatedAt, now)}, nil
}

func sameDefinition(s Rule, d Definition) bool {
	if s.Name != d.Name || s.Description != d.Description || s.EventType != d.EventType ||
		s.Condition != d.Condition || len(s.Actions) != len(d.Actions) {
		return false
	}
	for i := range s.Actions {
		if s.Actions[i] != d.Actions[i] {
			return false
		}
	}
	return true
}

// SetEnabled decides SetRuleEnabled; setting the current state yields no events.
func SetEnabled(s Rule, enabled bool, now time.Time) ([]Event, error) {
	if !s.Exists() {
		return nil, ErrNotFound(s.ID)
	}
	if s.Enabled == enabled {
		return nil, nil
	}
	return []Event{EnabledChanged{Enabled: enabled, At: now}}, nil
}

// Delete decides DeleteRule.
func Delete(s Rule, now time.Time) ([]Event, error) {
	if !s.Exists() {
		return nil, ErrNotFound(s.ID)
	}
	return []Event{Deleted{At: now}}, nil
}
