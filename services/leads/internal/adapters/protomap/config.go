package protomap

import (
	"fmt"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
	"github.com/evcrm/evcrm/services/leads/internal/domain/tenantcfg"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

// ScoringModelToProto maps a scoring model.
func ScoringModelToProto(m scoring.Model) *leadsv1.ScoringModel {
	p := &leadsv1.ScoringModel{
		Version:            m.Version,
		EngagementHalfLife: dur(m.HalfLife),
		WarmThreshold:      m.WarmThreshold,
		HotThreshold:       m.HotThreshold,
		MqlThreshold:       m.MQLThreshold,
		RevenueCurrency:    m.RevenueCurrency,
	}
	for _, r := range m.FitRules {
		p.FitRules = append(p.FitRules, &leadsv1.FitRule{Field: string(r.Field),
			Operator: FitOperatorToProto(r.Op), Values: cloneOrNil(r.Values), Points: r.Points,
			Description: r.Description})
	}
	for _, w := range m.EngagementWeights {
		p.EngagementWeights = append(p.EngagementWeights,
			&leadsv1.EngagementWeight{Signal: SignalToProto(w.Signal), Points: w.Points})
	}
	return p
}

// ScoringModelFromProto maps a scoring model (UpdateScoringModel, ScoringModelUpdated).
// Undeclared operators and signals and an invalid half-life are Invalid with one violation
// each, paths prefixed "model." (e.g. "model.fit_rules[2].operator"); a nil model is Invalid
// ("model"). The rules themselves are the domain's to validate.
func ScoringModelFromProto(p *leadsv1.ScoringModel) (scoring.Model, error) {
	var v apperr.Violations
	if p == nil {
		v.Add("model", "is required")
		return scoring.Model{}, v.Err("invalid scoring model")
	}
	m := scoringModelFromProto(p, &v)
	if err := v.Err("invalid scoring model"); err != nil {
		return scoring.Model{}, err
	}
	return m, nil
}

// scoringModelFromProto maps a model, casting enums as they are and adding violations for
// what is not faithful (the event codec ignores them: a stored event is decoded as written).
func scoringModelFromProto(p *leadsv1.ScoringModel, v *apperr.Violations) scoring.Model {
	const prefix = "model."
	m := scoring.Model{
		Version:         p.GetVersion(),
		WarmThreshold:   p.GetWarmThreshold(),
		HotThreshold:    p.GetHotThreshold(),
		MQLThreshold:    p.GetMqlThreshold(),
		RevenueCurrency: p.GetRevenueCurrency(),
	}
	for i, r := range p.GetFitRules() {
		checkEnum(r.GetOperator(), fmt.Sprintf("%sfit_rules[%d].operator", prefix, i), v)
		m.FitRules = append(m.FitRules, scoring.Rule{Field: scoring.Field(r.GetField()),
			Op: scoring.Op(r.GetOperator()), Values: cloneOrNil(r.GetValues()), Points: r.GetPoints(),
			Description: r.GetDescription()})
	}
	for i, w := range p.GetEngagementWeights() {
		checkEnum(w.GetSignal(), fmt.Sprintf("%sengagement_weights[%d].signal", prefix, i), v)
		m.EngagementWeights = append(m.EngagementWeights,
			scoring.Weight{Signal: scoring.Signal(w.GetSignal()), Points: w.GetPoints()})
	}
	if hl := p.GetEngagementHalfLife(); hl != nil {
		if err := hl.CheckValid(); err != nil {
			v.Add(prefix+"engagement_half_life", "is not a valid duration")
		} else {
			m.HalfLife = hl.AsDuration()
		}
	}
	return m
}

// TerritoryToProto maps a territory.
func TerritoryToProto(t territory.Territory) *leadsv1.Territory {
	return &leadsv1.Territory{
		Id:             t.ID,
		Name:           t.Name,
		Priority:       t.Priority,
		Countries:      cloneOrNil(t.Countries),
		Regions:        cloneOrNil(t.Regions),
		Industries:     cloneOrNil(t.Industries),
		MinEmployees:   t.MinEmployees,
		MaxEmployees:   t.MaxEmployees,
		AssignmentMode: AssignmentModeToProto(t.Mode),
		RepIds:         cloneOrNil(t.RepIDs),
		OwnerId:        t.OwnerID,
	}
}

// TerritoryFromProto maps a territory (UpsertTerritory, TerritoryUpserted). An undeclared
// assignment mode is Invalid ("territory.assignment_mode"); a nil territory is Invalid
// ("territory").
func TerritoryFromProto(p *leadsv1.Territory) (territory.Territory, error) {
	var v apperr.Violations
	if p == nil {
		v.Add("territory", "is required")
		return territory.Territory{}, v.Err("invalid territory")
	}
	checkEnum(p.GetAssignmentMode(), "territory.assignment_mode", &v)
	if err := v.Err("invalid territory"); err != nil {
		return territory.Territory{}, err
	}
	return territoryFromProto(p), nil
}

// territoryFromProto maps a territory as it is (no checks).
func territoryFromProto(p *leadsv1.Territory) territory.Territory {
	return territory.Territory{
		ID:           p.GetId(),
		Name:         p.GetName(),
		Priority:     p.GetPriority(),
		Countries:    cloneOrNil(p.GetCountries()),
		Regions:      cloneOrNil(p.GetRegions()),
		Industries:   cloneOrNil(p.GetIndustries()),
		MinEmployees: p.GetMinEmployees(),
		MaxEmployees: p.GetMaxEmployees(),
		Mode:         territory.Mode(p.GetAssignmentMode()),
		RepIDs:       cloneOrNil(p.GetRepIds()),
		OwnerID:      p.GetOwnerId(),
	}
}

// CustomFieldToProto maps a custom field definition of obj.
func CustomFieldToProto(obj tenantcfg.Object, d customfield.Definition) *leadsv1.CustomFieldDefinition {
	return &leadsv1.CustomFieldDefinition{Name: d.Name, Type: CustomFieldTypeToProto(d.Type),
		Label: d.Label, Required: d.Required, Object: CustomFieldObjectToProto(obj)}
}

// CustomFieldObjectToProto maps the object a custom field belongs to.
func CustomFieldObjectToProto(o tenantcfg.Object) leadsv1.CustomFieldObject {
	switch o {
	case tenantcfg.ObjectContact:
		return leadsv1.CustomFieldObject_CUSTOM_FIELD_OBJECT_CONTACT
	case tenantcfg.ObjectAccount:
		return leadsv1.CustomFieldObject_CUSTOM_FIELD_OBJECT_ACCOUNT
	}
	return leadsv1.CustomFieldObject_CUSTOM_FIELD_OBJECT_LEAD
}

// CustomFieldObjectFromProto maps a custom field object; UNSPECIFIED is LEAD (the only object
// before contacts and accounts had fields). An undeclared value is Invalid at field.
func CustomFieldObjectFromProto(p leadsv1.CustomFieldObject, field string) (tenantcfg.Object, error) {
	switch p {
	case leadsv1.CustomFieldObject_CUSTOM_FIELD_OBJECT_UNSPECIFIED, leadsv1.CustomFieldObject_CUSTOM_FIELD_OBJECT_LEAD:
		return tenantcfg.ObjectLead, nil
	case leadsv1.CustomFieldObject_CUSTOM_FIELD_OBJECT_CONTACT:
		return tenantcfg.ObjectContact, nil
	case leadsv1.CustomFieldObject_CUSTOM_FIELD_OBJECT_ACCOUNT:
		return tenantcfg.ObjectAccount, nil
	}
	return 0, apperr.InvalidFields("invalid custom field object", apperr.FieldViolation{Field: field, Description: "must be lead, contact or account"})
}

// CustomFieldFromProto maps a custom field definition (DefineCustomField) and the object it
// belongs to. An undeclared type is Invalid ("field.type"), so is an undeclared object
// ("field.object"); a nil definition is Invalid ("field").
func CustomFieldFromProto(p *leadsv1.CustomFieldDefinition) (tenantcfg.Object, customfield.Definition, error) {
	var v apperr.Violations
	if p == nil {
		v.Add("field", "is required")
		return 0, customfield.Definition{}, v.Err("invalid custom field")
	}
	checkEnum(p.GetType(), "field.type", &v)
	obj, err := CustomFieldObjectFromProto(p.GetObject(), "field.object")
	if err != nil {
		v.Add("field.object", "must be lead, contact or account")
	}
	if err := v.Err("invalid custom field"); err != nil {
		return 0, customfield.Definition{}, err
	}
	return obj, customFieldFromProto(p), nil
}

// customFieldFromProto maps a definition as it is (no checks).
func customFieldFromProto(p *leadsv1.CustomFieldDefinition) customfield.Definition {
	return customfield.Definition{Name: p.GetName(), Type: customfield.Type(p.GetType()),
		Label: p.GetLabel(), Required: p.GetRequired()}
}

// SettingsToProto maps a tenant's lifecycle settings.
func SettingsToProto(s lead.Settings) *leadsv1.LeadSettings {
	return &leadsv1.LeadSettings{StallDays: s.StallDays, RequireBudget: s.RequireBudget,
		RequireAuthority: s.RequireAuthority, RequireNeed: s.RequireNeed,
		RequireTimeline: s.RequireTimeline, ConvertSalesAccepted: s.ConvertSalesAccepted}
}

// SettingsFromProto maps lifecycle settings (UpdateLeadSettings, LeadSettingsUpdated). A nil
// message is Invalid ("settings") rather than silently turning every requirement off; the
// values are the domain's to validate.
func SettingsFromProto(p *leadsv1.LeadSettings) (lead.Settings, error) {
	if p == nil {
		return lead.Settings{}, apperr.InvalidFields("invalid lead settings",
			apperr.FieldViolation{Field: "settings", Description: "is required"})
	}
	return settingsFromProto(p), nil
}

// settingsFromProto maps settings as they are.
func settingsFromProto(p *leadsv1.LeadSettings) lead.Settings {
	return lead.Settings{StallDays: p.GetStallDays(), RequireBudget: p.GetRequireBudget(),
		RequireAuthority: p.GetRequireAuthority(), RequireNeed: p.GetRequireNeed(),
		RequireTimeline: p.GetRequireTimeline(), ConvertSalesAccepted: p.GetConvertSalesAccepted()}
}
