package opportunity

import (
	"strings"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/input"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// NewOpportunity is the CreateOpportunity command. The pipeline is the one passed to Create.
type NewOpportunity struct {
	// ID is chosen by the caller (a UUIDv7); [A-Za-z0-9_-]{1,64}.
	ID      string
	Details Details
	// LeadID is the converted lead, if any.
	LeadID string
	// OwnerID is required: every deal has an owner (forecasts are by owner).
	OwnerID string
	// StageID is an open stage of the pipeline; "" means its first open stage.
	StageID string
	// Amount is ≥ 0 in minor units; an empty currency means the tenant's default currency.
	Amount money.Money
	// Probability overrides the stage's default when set (0…100).
	Probability *int32
	// ForecastCategory overrides the stage's default when set (not CLOSED).
	ForecastCategory pipelinedef.Category
	// ExpectedCloseDate is required and not before today − Policy.MaxCloseDatePastDays.
	ExpectedCloseDate civil.Date
	ContactRoles      []ContactRole
}

// Create decides CreateOpportunity in pipeline p (the effective pipeline the command names).
// It validates every field (one violation per bad field) and returns OpportunityCreated. An
// opportunity cannot be created closed: create it, then mark it won or lost, so the close is
// captured like any other. Idempotency on the caller's key is the app's business; an existing
// opportunity is AlreadyExists.
func Create(o Opportunity, cmd NewOpportunity, p pipelinedef.Pipeline, pol Policy, now time.Time) ([]Event, error) {
	if o.Exists() {
		return nil, apperr.Exists("opportunity already exists", o.ID)
	}
	all := func(string) bool { return true }
	var v apperr.Violations
	if !input.ValidID(cmd.ID) {
		v.Add("id", input.IDMessage)
	}
	d := normalizeDetails(cmd.Details, all, &v)
	validateDetails(d, pol, all, &v)
	input.OptionalID("lead_id", strings.TrimSpace(cmd.LeadID), &v)
	checkUser("owner_id", strings.TrimSpace(cmd.OwnerID), &v)

	stageID := strings.TrimSpace(cmd.StageID)
	var st pipelinedef.Stage
	var stageOK bool
	if stageID == "" {
		st, stageOK = p.FirstOpenStage()
	} else {
		st, stageOK = p.StageByID(stageID)
		switch {
		case !stageOK:
			v.Add("stage_id", "is not a stage of pipeline %q", p.ID)
		case st.Kind != pipelinedef.KindOpen:
			v.Add("stage_id", "%q is a %s stage: create the opportunity open, then mark it won or lost", st.ID, strings.ToLower(st.Kind.String()))
			stageOK = false
		}
	}
	amount := checkAmount("amount", cmd.Amount, pol.DefaultCurrency, Opportunity{}, &v)
	if cmd.Probability != nil && (*cmd.Probability < 0 || *cmd.Probability > 100) {
		v.Add("probability", "must be between 0 and 100")
	}
	if cmd.ForecastCategory != pipelinedef.CategoryUnspecified && !cmd.ForecastCategory.ValidForOpen() {
		v.Add("forecast_category", "must be pipeline, best_case, commit or omitted")
	}
	checkCloseDate("expected_close_date", cmd.ExpectedCloseDate, pol, today(now), &v)
	roles := normalizeRoles(cmd.ContactRoles, "contact_roles", &v)
	if err := v.Err("invalid opportunity"); err != nil {
		return nil, err
	}
	if p.Archived {
		return nil, apperr.Precondition(ReasonPipelineArchived, "pipeline %q is archived: it takes no new opportunities", p.ID)
	}
	if !stageOK {
		return nil, apperr.New(apperr.Internal, "pipeline %q has no open stage", p.ID)
	}

	n := Opportunity{ID: cmd.ID, Details: d, LeadID: strings.TrimSpace(cmd.LeadID), OwnerID: strings.TrimSpace(cmd.OwnerID),
		PipelineID: p.ID, StageID: st.ID, StageName: st.Name, Amount: amount,
		Probability: st.Probability, StageProbability: st.Probability,
		ForecastCategory: st.Category, StageCategory: st.Category,
		ExpectedCloseDate: cmd.ExpectedCloseDate, ContactRoles: roles, Status: StatusOpen,
		StageEnteredAt: now, CreatedAt: now, UpdatedAt: now,
		StageHistory: []StageVisit{{StageID: st.ID, StageName: st.Name, EnteredAt: now}}}
	if cmd.Probability != nil {
		n.Probability, n.ProbabilityOverridden = *cmd.Probability, true
	}
	if cmd.ForecastCategory != pipelinedef.CategoryUnspecified {
		n.ForecastCategory, n.CategoryOverridden = cmd.ForecastCategory, true
	}
	return []Event{OpportunityCreated{Opportunity: n, At: now}}, nil
}
