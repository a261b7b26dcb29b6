package tenantcfg

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

// Machine-readable reasons of FailedPrecondition errors.
const (
	ReasonTypeImmutable    = "CUSTOM_FIELD_TYPE_IMMUTABLE"
	ReasonTooManyFields    = "TOO_MANY_CUSTOM_FIELDS"
	ReasonTooManyTerritory = "TOO_MANY_TERRITORIES"
)

// DefineCustomField declares a new custom field of obj; an existing name of obj is
// AlreadyExists (another object may use the name).
func DefineCustomField(c Config, obj Object, def customfield.Definition, now time.Time) ([]Event, error) {
	def.Label = strings.TrimSpace(def.Label)
	var v apperr.Violations
	def.Validate("field.", &v)
	if err := v.Err("invalid custom field"); err != nil {
		return nil, err
	}
	if _, ok := c.Fields(obj)[def.Name]; ok {
		return nil, apperr.Exists(fmt.Sprintf("%s custom field %q already exists", obj, def.Name), def.Name)
	}
	if len(c.Fields(obj)) >= MaxCustomFields {
		return nil, apperr.Precondition(ReasonTooManyFields, "a tenant has at most %d custom fields per object", MaxCustomFields)
	}
	return []Event{CustomFieldDefined{Object: obj, Field: def, At: now}}, nil
}

// UpdateCustomField changes the label or required flag of a custom field. Its type cannot
// change (stored values would stop matching it): define a new field instead. No change → no
// events.
func UpdateCustomField(c Config, obj Object, def customfield.Definition, now time.Time) ([]Event, error) {
	def.Label = strings.TrimSpace(def.Label)
	var v apperr.Violations
	def.Validate("field.", &v)
	if err := v.Err("invalid custom field"); err != nil {
		return nil, err
	}
	old, ok := c.Fields(obj)[def.Name]
	if !ok {
		return nil, apperr.NotFoundf("custom field", def.Name)
	}
	if old.Type != def.Type {
		return nil, apperr.Precondition(ReasonTypeImmutable, "custom field %q is of type %s; its type cannot change", def.Name, old.Type)
	}
	if old == def {
		return nil, nil
	}
	return []Event{CustomFieldDefined{Object: obj, Field: def, At: now}}, nil
}

// RemoveCustomField deletes a custom field definition of obj.
func RemoveCustomField(c Config, obj Object, name string, now time.Time) ([]Event, error) {
	if _, ok := c.Fields(obj)[name]; !ok {
		return nil, apperr.NotFoundf(obj.String()+" custom field", name)
	}
	return []Event{CustomFieldDeleted{Object: obj, Name: name, At: now}}, nil
}

// UpdateScoringModel validates m and records it as the next model version (the given
// m.Version is ignored). Besides scoring.Model.Validate, source rule values must name lead
// sources. A model equal to the current one (apart from the version) yields no events, so a
// retried update does not mint a version.
func UpdateScoringModel(c Config, m scoring.Model, now time.Time) ([]Event, error) {
	m.RevenueCurrency = strings.ToUpper(strings.TrimSpace(m.RevenueCurrency))
	var fields []apperr.FieldViolation
	if err := m.Validate(); err != nil {
		e, _ := apperr.As(err)
		fields = append(fields, e.Fields...)
	}
	for i, r := range m.FitRules {
		if r.Field != scoring.FieldSource || (r.Op != scoring.OpEquals && r.Op != scoring.OpIn) {
			continue
		}
		for j, val := range r.Values {
			if _, ok := lead.ParseSource(strings.ToLower(strings.TrimSpace(val))); !ok && strings.TrimSpace(val) != "" {
				fields = append(fields, apperr.FieldViolation{Field: fmt.Sprintf("fit_rules[%d].values[%d]", i, j),
					Description: "unknown lead source; one of web_form, event, referral, advertisement, social, email, partner, import, other"})
			}
		}
	}
	if len(fields) > 0 {
		return nil, apperr.InvalidFields("invalid scoring model", fields...)
	}
	m.Version = c.Model.Version
	if reflect.DeepEqual(m, c.Model) {
		return nil, nil
	}
	m.Version = c.Model.Version + 1
	return []Event{ScoringModelUpdated{Model: m, At: now}}, nil
}

// UpsertTerritory creates or replaces a territory (normalised first: trimmed, countries
// upper-cased). An unchanged territory yields no events.
func UpsertTerritory(c Config, t territory.Territory, now time.Time) ([]Event, error) {
	t = t.Normalize()
	var v apperr.Violations
	t.Validate("territory.", &v)
	if err := v.Err("invalid territory"); err != nil {
		return nil, err
	}
	old, exists := c.Territories[t.ID]
	if exists && reflect.DeepEqual(old, t) {
		return nil, nil
	}
	if !exists && len(c.Territories) >= MaxTerritories {
		return nil, apperr.Precondition(ReasonTooManyTerritory, "a tenant has at most %d territories", MaxTerritories)
	}
	return []Event{TerritoryUpserted{Territory: t, At: now}}, nil
}

// RemoveTerritory deletes a territory. Leads keep its id until their matching fields change.
func RemoveTerritory(c Config, id string, now time.Time) ([]Event, error) {
	if _, ok := c.Territories[id]; !ok {
		return nil, apperr.NotFoundf("territory", id)
	}
	return []Event{TerritoryDeleted{TerritoryID: id, At: now}}, nil
}

// SetSettings replaces the lifecycle settings. No change → no events.
func SetSettings(c Config, s lead.Settings, now time.Time) ([]Event, error) {
	if s.StallDays < 0 || s.StallDays > MaxStallDays {
		return nil, apperr.InvalidFields("invalid settings", apperr.FieldViolation{Field: "settings.stall_days",
			Description: fmt.Sprintf("must be between 0 (never) and %d", MaxStallDays)})
	}
	if s == c.Settings {
		return nil, nil
	}
	return []Event{LeadSettingsUpdated{Settings: s, At: now}}, nil
}
