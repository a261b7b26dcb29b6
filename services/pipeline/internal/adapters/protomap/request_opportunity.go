package protomap

import (
	"fmt"
	"strings"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/libs/money/moneypb"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// Request mappers turn the payload of a write RPC into the domain command. They report what
// the domain could no longer see once a value is mapped — an enum number the proto does not
// declare, a malformed amount, decimal or date, a field-mask path that names no field, a
// custom value without a value — as one violation per bad field, named by its path in the
// request ("opportunity.amount", "update_mask.paths[1]", "close_date"). Everything else
// (required fields, ranges, lengths, business rules) is the domain's to decide: the mappers
// pass values on as given. Who acts (StageMove.MovedBy and the like) is not in any request:
// the app sets it from the caller.

// NewOpportunityFromProto maps a CreateOpportunity request. ID is the request's
// opportunity_id ("" when the app is to assign one); the pipeline is
// req.GetOpportunity().GetPipelineId() (the app loads it; "" means "default"). Only settable
// fields are read: output-only ones are ignored, and probability and forecast_category are
// overrides only with probability_overridden and forecast_category_overridden set.
func NewOpportunityFromProto(req *pipelinev1.CreateOpportunityRequest) (opportunity.NewOpportunity, error) {
	p := req.GetOpportunity()
	if p == nil {
		return opportunity.NewOpportunity{}, required("opportunity", "invalid opportunity")
	}
	const at = "opportunity."
	var v apperr.Violations
	cmd := opportunity.NewOpportunity{
		ID:                req.GetOpportunityId(),
		Details:           requestDetails(p, at, func(string) bool { return true }, &v),
		LeadID:            p.GetLeadId(),
		OwnerID:           p.GetOwnerId(),
		StageID:           p.GetStageId(),
		Amount:            moneypb.RequestAmount(p.GetAmount(), at+"amount", &v),
		ExpectedCloseDate: requestDate(p.GetExpectedCloseDate(), at+"expected_close_date", &v),
		ContactRoles:      requestRoles(p.GetContactRoles(), at+"contact_roles", &v),
	}
	if p.GetProbabilityOverridden() {
		pr := requestI32(p.GetProbability())
		cmd.Probability = &pr
	}
	if p.GetForecastCategoryOverridden() {
		cmd.ForecastCategory = categories.request(p.GetForecastCategory(), at+"forecast_category", &v)
	}
	if err := v.Err("invalid opportunity"); err != nil {
		return opportunity.NewOpportunity{}, err
	}
	return cmd, nil
}

// notUpdatable are Opportunity fields UpdateOpportunity does not change, with the RPC that
// does ("" for output-only fields), so a client that names one is told where to go.
var notUpdatable = map[string]string{
	"id": "", "version": "", "stage_name": "", "stage_entered_at": "", "created_at": "", "updated_at": "",
	"stage_probability": "", "stage_forecast_category": "", "stage_history": "",
	"lead_id":                      "CreateOpportunity (it is set on create only)",
	"pipeline_id":                  "CreateOpportunity (it is set on create only)",
	"owner_id":                     "AssignOpportunity",
	"stage_id":                     "MoveOpportunityStage",
	"amount":                       "UpdateOpportunityAmount",
	"probability":                  "UpdateOpportunityProbability",
	"probability_overridden":       "UpdateOpportunityProbability",
	"expected_close_date":          "UpdateOpportunityCloseDate",
	"forecast_category":            "UpdateOpportunityForecastCategory",
	"forecast_category_overridden": "UpdateOpportunityForecastCategory",
	"contact_roles":                "SetOpportunityContactRoles",
	"status":                       "MarkOpportunityWon, MarkOpportunityLost or ReopenOpportunity",
	"close":                        "MarkOpportunityWon, MarkOpportunityLost or ReopenOpportunity",
}

// OpportunityUpdateFromProto maps an UpdateOpportunity request. Mask paths are the domain's
// (opportunity.Paths, "custom_fields", "custom_fields.<name>"); any other path is a violation
// ("update_mask.paths[i]") that names the RPC changing the field when there is one. Values of
// the named fields are checked ("opportunity.source", "opportunity.custom_fields.<name>");
// fields not named are ignored whatever they hold. An empty mask is passed on: the domain
// rejects it.
func OpportunityUpdateFromProto(req *pipelinev1.UpdateOpportunityRequest) (opportunity.Update, error) {
	var v apperr.Violations
	known := map[string]bool{opportunity.PathCustomFields: true}
	for _, path := range opportunity.Paths() {
		known[path] = true
	}
	paths := make([]string, 0, len(req.GetUpdateMask().GetPaths()))
	named := map[string]bool{}
	for i, path := range req.GetUpdateMask().GetPaths() {
		field := fmt.Sprintf("update_mask.paths[%d]", i)
		name, custom := strings.CutPrefix(path, opportunity.PathCustomFields+".")
		switch rpc, out := notUpdatable[path]; {
		case known[path]:
		case custom && customfield.ValidName(name):
		case custom:
			v.Add(field, "%q: a custom field name must match [a-z][a-z0-9_]{0,62}", path)
			continue
		case out && rpc != "":
			v.Add(field, "%q is not changed by UpdateOpportunity; use %s", path, rpc)
			continue
		case out:
			v.Add(field, "%q is output only", path)
			continue
		default:
			v.Add(field, "unknown field %q", path)
			continue
		}
		paths = append(paths, path)
		named[path] = true
	}
	touched := func(leaf string) bool {
		return named[leaf] || (strings.HasPrefix(leaf, opportunity.PathCustomFields+".") && named[opportunity.PathCustomFields])
	}
	d := requestDetails(req.GetOpportunity(), "opportunity.", touched, &v)
	if err := v.Err("invalid opportunity update"); err != nil {
		return opportunity.Update{}, err
	}
	return opportunity.Update{Paths: paths, Details: d}, nil
}

// requestDetails maps the descriptive fields of a request, adding a violation (path prefix +
// leaf) for each touched leaf whose value cannot be mapped faithfully: an undeclared source, a
// custom value without a value. Untouched bad values are dropped.
func requestDetails(p *pipelinev1.Opportunity, prefix string, touched func(leaf string) bool, v *apperr.Violations) opportunity.Details {
	d := DetailsFromProto(p)
	var sv apperr.Violations
	d.Source = sources.request(p.GetSource(), prefix+opportunity.PathSource, &sv)
	if touched(opportunity.PathSource) {
		*v = append(*v, sv...)
	}
	for _, name := range customfield.SortedNames(p.GetCustomFields()) {
		if p.GetCustomFields()[name].GetValue() != nil {
			continue
		}
		leaf := opportunity.PathCustomFields + "." + name
		delete(d.CustomFields, name)
		if touched(leaf) {
			v.Add(prefix+leaf, "has no value; leave the field out to clear it")
		}
	}
	if len(d.CustomFields) == 0 {
		d.CustomFields = nil
	}
	return d
}

// requestRoles maps contact roles, adding a violation ("<field>[i].role") per undeclared role.
func requestRoles(ps []*pipelinev1.OpportunityContactRole, field string, v *apperr.Violations) []opportunity.ContactRole {
	if len(ps) == 0 {
		return nil
	}
	out := make([]opportunity.ContactRole, 0, len(ps))
	for i, p := range ps {
		out = append(out, opportunity.ContactRole{ContactID: p.GetContactId(),
			Role: roles.request(p.GetRole(), fmt.Sprintf("%s[%d].role", field, i), v), Primary: p.GetIsPrimary()})
	}
	return out
}

// StageMoveFromProto maps a MoveOpportunityStage request (MovedBy is the app's to set).
func StageMoveFromProto(req *pipelinev1.MoveOpportunityStageRequest) opportunity.StageMove {
	return opportunity.StageMove{StageID: req.GetStageId()}
}

// AmountFromProto maps an UpdateOpportunityAmount request; a malformed amount is a violation on
// "amount". An unset amount is the zero Money, which the domain reads as 0 in the
// opportunity's currency.
func AmountFromProto(req *pipelinev1.UpdateOpportunityAmountRequest) (money.Money, error) {
	return moneypb.FromRequest(req.GetAmount(), "amount")
}

// CloseDateFromProto maps an UpdateOpportunityCloseDate request; a malformed date is a
// violation on "expected_close_date" (an empty one is the zero Date, which the domain refuses).
func CloseDateFromProto(req *pipelinev1.UpdateOpportunityCloseDateRequest) (civil.Date, error) {
	return DateFromProto(req.GetExpectedCloseDate(), "expected_close_date")
}

// ProbabilityFromProto maps an UpdateOpportunityProbability request: a value is an override,
// absence (nil) clears it.
func ProbabilityFromProto(req *pipelinev1.UpdateOpportunityProbabilityRequest) *int32 {
	if req.Probability == nil {
		return nil
	}
	p := requestI32(req.GetProbability())
	return &p
}

// CategoryOverrideFromProto maps an UpdateOpportunityForecastCategory request: a category is an
// override, UNSPECIFIED (nil) clears it; an undeclared number is a violation on
// "forecast_category".
func CategoryOverrideFromProto(req *pipelinev1.UpdateOpportunityForecastCategoryRequest) (*pipelinedef.Category, error) {
	if req.GetForecastCategory() == pipelinev1.ForecastCategory_FORECAST_CATEGORY_UNSPECIFIED {
		return nil, nil
	}
	c, err := CategoryFromProto(req.GetForecastCategory(), "forecast_category")
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// AssignmentFromProto maps an AssignOpportunity request (note → Reason).
func AssignmentFromProto(req *pipelinev1.AssignOpportunityRequest) opportunity.Assignment {
	return opportunity.Assignment{OwnerID: req.GetOwnerId(), Reason: req.GetNote()}
}

// ContactRolesFromProto maps a SetOpportunityContactRoles request; an undeclared role is a
// violation on "contact_roles[i].role". An empty list (remove every role) is nil.
func ContactRolesFromProto(req *pipelinev1.SetOpportunityContactRolesRequest) ([]opportunity.ContactRole, error) {
	var v apperr.Violations
	rs := requestRoles(req.GetContactRoles(), "contact_roles", &v)
	if err := v.Err("invalid contact roles"); err != nil {
		return nil, err
	}
	return rs, nil
}

// WinFromProto maps a MarkOpportunityWon request: amount (unset: keep the current one) and
// close_date (empty: today, the domain's default) are checked for form ("amount",
// "close_date").
func WinFromProto(req *pipelinev1.MarkOpportunityWonRequest) (opportunity.Win, error) {
	var v apperr.Violations
	w := opportunity.Win{FinalAmount: requestMoneyPtr(req.GetAmount(), "amount", &v), Note: req.GetNote(),
		ClosedOn: requestDate(req.GetCloseDate(), "close_date", &v)}
	if err := v.Err("invalid win"); err != nil {
		return opportunity.Win{}, err
	}
	return w, nil
}

// LossFromProto maps a MarkOpportunityLost request: an undeclared reason ("reason") and a
// malformed close_date ("close_date") are violations; UNSPECIFIED is passed on (the domain
// requires a reason).
func LossFromProto(req *pipelinev1.MarkOpportunityLostRequest) (opportunity.Loss, error) {
	var v apperr.Violations
	l := opportunity.Loss{Reason: lostReasons.request(req.GetReason(), "reason", &v), Competitor: req.GetCompetitor(),
		Note: req.GetNote(), ClosedOn: requestDate(req.GetCloseDate(), "close_date", &v), StageID: req.GetStageId()}
	if err := v.Err("invalid loss"); err != nil {
		return opportunity.Loss{}, err
	}
	return l, nil
}

// ReopeningFromProto maps a ReopenOpportunity request.
func ReopeningFromProto(req *pipelinev1.ReopenOpportunityRequest) opportunity.Reopening {
	return opportunity.Reopening{StageID: req.GetStageId()}
}

// required is the Invalid error of a missing request message.
func required(field, msg string) error {
	return apperr.InvalidFields(msg, apperr.FieldViolation{Field: field, Description: "is required"})
}
