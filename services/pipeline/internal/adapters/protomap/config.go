package protomap

import (
	"github.com/evcrm/evcrm/libs/customfield"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinecfg"
)

// ConfigToProto maps a tenant's pipeline configuration with its version (0: never changed, the
// defaults).
func ConfigToProto(s pipelinecfg.State) *pipelinev1.PipelineConfig {
	return configToProto(s.Config, s.Version)
}

func configToProto(c pipelinecfg.Config, version uint64) *pipelinev1.PipelineConfig {
	p := &pipelinev1.PipelineConfig{Version: version, MaxCloseDatePastDays: u32(c.MaxCloseDatePastDays),
		DefaultCurrency: c.DefaultCurrency}
	if len(c.CustomFields) > 0 {
		p.CustomFields = make(map[string]*pipelinev1.CustomFieldDefinition, len(c.CustomFields))
		for name, d := range c.CustomFields {
			p.CustomFields[name] = CustomFieldToProto(d)
		}
	}
	return p
}

// ConfigFromProto is the lossless inverse of ConfigToProto for what the service wrote (no
// validation; UpdatePipelineConfig goes through ConfigUpdateFromProto).
func ConfigFromProto(p *pipelinev1.PipelineConfig) pipelinecfg.State {
	return pipelinecfg.State{Version: p.GetVersion(), Config: configFromProto(p)}
}

func configFromProto(p *pipelinev1.PipelineConfig) pipelinecfg.Config {
	c := pipelinecfg.Config{MaxCloseDatePastDays: fromU32(p.GetMaxCloseDatePastDays()),
		DefaultCurrency: p.GetDefaultCurrency()}
	if len(p.GetCustomFields()) > 0 {
		c.CustomFields = make(map[string]customfield.Definition, len(p.GetCustomFields()))
		for name, d := range p.GetCustomFields() {
			c.CustomFields[name] = customFieldFromProto(d)
		}
	}
	return c
}

// CustomFieldToProto maps a custom field definition.
func CustomFieldToProto(d customfield.Definition) *pipelinev1.CustomFieldDefinition {
	return &pipelinev1.CustomFieldDefinition{Name: d.Name, Type: FieldTypeToProto(d.Type), Label: d.Label,
		Required: d.Required}
}

func customFieldFromProto(p *pipelinev1.CustomFieldDefinition) customfield.Definition {
	return customfield.Definition{Name: p.GetName(), Type: fieldTypes.domain(p.GetType()), Label: p.GetLabel(),
		Required: p.GetRequired()}
}
