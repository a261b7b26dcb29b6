package protomap

import (
	"fmt"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinecfg"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// NewPipelineFromProto maps a CreatePipeline request: id, name and stages (output-only fields
// are ignored). Undeclared stage kinds and categories are violations
// ("pipeline.stages[i].kind", "pipeline.stages[i].forecast_category").
func NewPipelineFromProto(req *pipelinev1.CreatePipelineRequest) (pipelinedef.Pipeline, error) {
	p := req.GetPipeline()
	if p == nil {
		return pipelinedef.Pipeline{}, required("pipeline", "invalid pipeline")
	}
	var v apperr.Violations
	out := pipelinedef.Pipeline{ID: p.GetId(), Name: p.GetName(), Stages: requestStages(p.GetStages(), "pipeline.stages", &v)}
	if err := v.Err("invalid pipeline"); err != nil {
		return pipelinedef.Pipeline{}, err
	}
	return out, nil
}

// PipelineRevisionFromProto maps an UpdatePipeline request to the new definition of pipeline
// pipeline_id. Undeclared stage kinds and categories are violations ("stages[i].kind",
// "stages[i].forecast_category").
func PipelineRevisionFromProto(req *pipelinev1.UpdatePipelineRequest) (pipelinedef.Pipeline, error) {
	var v apperr.Violations
	out := pipelinedef.Pipeline{ID: req.GetPipelineId(), Name: req.GetName(), Stages: requestStages(req.GetStages(), "stages", &v)}
	if err := v.Err("invalid pipeline"); err != nil {
		return pipelinedef.Pipeline{}, err
	}
	return out, nil
}

func requestStages(ps []*pipelinev1.Stage, field string, v *apperr.Violations) []pipelinedef.Stage {
	var out []pipelinedef.Stage
	for i, p := range ps {
		at := fmt.Sprintf("%s[%d].", field, i)
		out = append(out, pipelinedef.Stage{ID: p.GetId(), Name: p.GetName(),
			Probability: requestI32(p.GetDefaultProbability()),
			Category:    categories.request(p.GetForecastCategory(), at+"forecast_category", v),
			Kind:        stageKinds.request(p.GetKind(), at+"kind", v)})
	}
	return out
}

// ConfigUpdateFromProto maps an UpdatePipelineConfig request to the new configuration (its
// version is assigned by the domain). An undeclared custom field type is a violation
// ("config.custom_fields.<name>.type"); a missing config is Invalid ("config") rather than a
// silent reset to no custom fields.
func ConfigUpdateFromProto(req *pipelinev1.UpdatePipelineConfigRequest) (pipelinecfg.Config, error) {
	p := req.GetConfig()
	if p == nil {
		return pipelinecfg.Config{}, required("config", "invalid pipeline configuration")
	}
	var v apperr.Violations
	c := pipelinecfg.Config{MaxCloseDatePastDays: requestI32(p.GetMaxCloseDatePastDays()),
		DefaultCurrency: p.GetDefaultCurrency()}
	for _, name := range customfield.SortedNames(p.GetCustomFields()) {
		d := p.GetCustomFields()[name]
		if c.CustomFields == nil {
			c.CustomFields = map[string]customfield.Definition{}
		}
		c.CustomFields[name] = customfield.Definition{Name: d.GetName(),
			Type:  fieldTypes.request(d.GetType(), "config.custom_fields."+name+".type", &v),
			Label: d.GetLabel(), Required: d.GetRequired()}
	}
	if err := v.Err("invalid pipeline configuration"); err != nil {
		return pipelinecfg.Config{}, err
	}
	return c, nil
}
