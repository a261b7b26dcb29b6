// Package pipelinecfg is the tenant's pipeline configuration aggregate (aggregate type
// "pipelineconfig", one per tenant, id = tenant id): the custom fields of opportunities, how far
// in the past a new opportunity's close date may lie, and the currency of amounts given without
// one. Opportunity decisions read it through Config.Policy.
//
// The configuration is changed as a whole (UpdateConfig → PipelineConfigUpdated with the full
// new configuration and its version), which keeps the aggregate to one event type; the API may
// offer field masks on top.
package pipelinecfg

import (
	"maps"
	"strings"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
)

// AggregateType is the event store's aggregate type of the configuration.
const AggregateType = "pipelineconfig"

// Limits and defaults.
const (
	MaxCustomFields          = 200
	MaxCloseDatePastDaysHigh = 3650
	// DefaultCurrency is the currency of amounts given without one until a tenant sets its own.
	DefaultCurrency = "USD"
)

// Config is a tenant's pipeline configuration.
type Config struct {
	// CustomFields are the opportunity custom field definitions, by name.
	CustomFields map[string]customfield.Definition
	// MaxCloseDatePastDays is how many days before today a new opportunity's expected close
	// date (and a changed one) may lie; 0 means not before today.
	MaxCloseDatePastDays int32
	// DefaultCurrency is the ISO 4217 currency of amounts given without one.
	DefaultCurrency string
}

// State is the configuration folded from its events. Start the fold at New(): a tenant that
// never changed a setting uses the defaults.
type State struct {
	// Version is the number of events folded (the configuration's version).
	Version uint64
	Config  Config
}

// New returns the configuration of a tenant that changed nothing: no custom fields, close
// dates not before today, amounts in USD.
func New() State {
	return State{Config: Config{MaxCloseDatePastDays: 0, DefaultCurrency: DefaultCurrency}}
}

// Policy returns what opportunity decisions need.
func (c Config) Policy() opportunity.Policy {
	return opportunity.Policy{CustomFields: maps.Clone(c.CustomFields),
		MaxCloseDatePastDays: c.MaxCloseDatePastDays, DefaultCurrency: c.DefaultCurrency}
}

// Event is a fact about a tenant's pipeline configuration; the codec maps each type to the
// crm.pipeline.v1 message of the same name.
type Event interface {
	// EventType is the event's name and the last token of its subject.
	EventType() string
	// OccurredAt is when the change was made.
	OccurredAt() time.Time
	isConfigEvent()
}

// PipelineConfigUpdated carries the whole new configuration and its version (the State's
// Version after this event).
type PipelineConfigUpdated struct {
	Config  Config
	Version uint64
	At      time.Time
}

// EventType implements Event.
func (PipelineConfigUpdated) EventType() string { return "PipelineConfigUpdated" }

// OccurredAt implements Event.
func (e PipelineConfigUpdated) OccurredAt() time.Time { return e.At }

func (PipelineConfigUpdated) isConfigEvent() {}

// Apply folds one event into the state. It is pure: the event's map is copied.
func Apply(s State, e Event) State {
	s.Version++
	if u, ok := e.(PipelineConfigUpdated); ok {
		s.Config = u.Config
		s.Config.CustomFields = maps.Clone(u.Config.CustomFields)
	}
	return s
}

// ApplyAll folds events in order.
func ApplyAll(s State, events ...Event) State {
	for _, e := range events {
		s = Apply(s, e)
	}
	return s
}

// Update decides UpdatePipelineConfig: c replaces the configuration. Labels are trimmed and the
// currency upper-cased first. A custom field's type cannot change (stored values would stop
// matching it; define a new field instead). An unchanged configuration yields no events.
func Update(s State, c Config, now time.Time) ([]Event, error) {
	c.DefaultCurrency = strings.ToUpper(strings.TrimSpace(c.DefaultCurrency))
	defs := make(map[string]customfield.Definition, len(c.CustomFields))
	for name, d := range c.CustomFields {
		d.Label = strings.TrimSpace(d.Label)
		defs[name] = d
	}
	if len(defs) == 0 {
		defs = nil
	}
	c.CustomFields = defs

	var v apperr.Violations
	if len(c.CustomFields) > MaxCustomFields {
		v.Add("custom_fields", "at most %d custom fields", MaxCustomFields)
	}
	for _, name := range customfield.SortedNames(c.CustomFields) {
		d := c.CustomFields[name]
		at := "custom_fields." + name + "."
		if d.Name != name {
			v.Add(at+"name", "must equal the key %q", name)
			continue
		}
		d.Validate(at, &v)
		if old, ok := s.Config.CustomFields[name]; ok && d.Type.Valid() && old.Type != d.Type {
			v.Add(at+"type", "is %s: a custom field's type cannot change (define a new field)", old.Type)
		}
	}
	if c.MaxCloseDatePastDays < 0 || c.MaxCloseDatePastDays > MaxCloseDatePastDaysHigh {
		v.Add("max_close_date_past_days", "must be between 0 and %d", MaxCloseDatePastDaysHigh)
	}
	if !money.ValidCurrency(c.DefaultCurrency) {
		v.Add("default_currency", "must be an ISO 4217 code such as USD")
	}
	if err := v.Err("invalid pipeline configuration"); err != nil {
		return nil, err
	}
	if equal(s.Config, c) {
		return nil, nil
	}
	return []Event{PipelineConfigUpdated{Config: c, Version: s.Version + 1, At: now}}, nil
}

func equal(a, b Config) bool {
	return a.MaxCloseDatePastDays == b.MaxCloseDatePastDays && a.DefaultCurrency == b.DefaultCurrency &&
		maps.Equal(a.CustomFields, b.CustomFields)
}
