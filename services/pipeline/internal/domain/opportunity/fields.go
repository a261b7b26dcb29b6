package opportunity

import (
	"slices"
	"strings"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/input"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// UpdateAmount decides a manual amount change. The amount is ≥ 0 in minor units; an empty
// currency keeps the opportunity's. The currency may change only while the opportunity has no
// quotes (their amounts are in its currency). The same amount yields no events.
func UpdateAmount(o Opportunity, amount money.Money, now time.Time) ([]Event, error) {
	if err := writable(o); err != nil {
		return nil, err
	}
	var v apperr.Violations
	amount = checkAmount("amount", amount, o.Amount.Currency, o, &v)
	if err := v.Err("invalid amount"); err != nil {
		return nil, err
	}
	if amount.Equal(o.Amount) {
		return nil, nil
	}
	return []Event{OpportunityAmountChanged{Old: o.Amount, New: amount, Reason: AmountManual, At: now}}, nil
}

// UpdateCloseDate decides a new expected close date. Like on create, it may not lie more than
// Policy.MaxCloseDatePastDays before today: the date is an expectation, and a date in the past
// would silently drop the deal from every forecast period still to come. The same date yields
// no events.
func UpdateCloseDate(o Opportunity, d civil.Date, pol Policy, now time.Time) ([]Event, error) {
	if err := writable(o); err != nil {
		return nil, err
	}
	var v apperr.Violations
	checkCloseDate("expected_close_date", d, pol, today(now), &v)
	if err := v.Err("invalid close date"); err != nil {
		return nil, err
	}
	if d == o.ExpectedCloseDate {
		return nil, nil
	}
	return []Event{OpportunityCloseDateChanged{Old: o.ExpectedCloseDate, New: d,
		DaysMoved: int32(d.DaysSince(o.ExpectedCloseDate)), At: now}}, nil
}

// UpdateProbability decides a probability override: a value 0…100 overrides the stage's
// default until the next stage change; nil clears the override and restores the default of
// the stage as the opportunity entered it. Nothing changing (value and override flag) yields
// no events.
func UpdateProbability(o Opportunity, p *int32, now time.Time) ([]Event, error) {
	if err := writable(o); err != nil {
		return nil, err
	}
	next, overridden := o.StageProbability, false
	if p != nil {
		if *p < 0 || *p > 100 {
			return nil, apperr.InvalidFields("invalid probability",
				apperr.FieldViolation{Field: "probability", Description: "must be between 0 and 100"})
		}
		next, overridden = *p, true
	}
	if next == o.Probability && overridden == o.ProbabilityOverridden {
		return nil, nil
	}
	return []Event{OpportunityProbabilityChanged{Old: o.Probability, New: next, Overridden: overridden, At: now}}, nil
}

// UpdateForecastCategory decides a forecast category override (pipeline, best case, commit or
// omitted — closed means won and comes only with MarkWon); nil clears the override and restores
// the stage's default. Nothing changing yields no events.
func UpdateForecastCategory(o Opportunity, c *pipelinedef.Category, now time.Time) ([]Event, error) {
	if err := writable(o); err != nil {
		return nil, err
	}
	next, overridden := o.StageCategory, false
	if c != nil {
		if !c.ValidForOpen() {
			return nil, apperr.InvalidFields("invalid forecast category",
				apperr.FieldViolation{Field: "forecast_category", Description: "must be pipeline, best_case, commit or omitted"})
		}
		next, overridden = *c, true
	}
	if next == o.ForecastCategory && overridden == o.CategoryOverridden {
		return nil, nil
	}
	return []Event{OpportunityForecastCategoryChanged{Old: o.ForecastCategory, New: next, Overridden: overridden, At: now}}, nil
}

// Assignment is the AssignOpportunity command.
type Assignment struct {
	// OwnerID is the new owner (required: an opportunity always has one).
	OwnerID string
	// Reason is the person's note.
	Reason string
}

// Assign decides a change of owner. Assigning the current owner yields no events.
func Assign(o Opportunity, cmd Assignment, now time.Time) ([]Event, error) {
	if err := writable(o); err != nil {
		return nil, err
	}
	cmd.OwnerID, cmd.Reason = strings.TrimSpace(cmd.OwnerID), strings.TrimSpace(cmd.Reason)
	var v apperr.Violations
	checkUser("owner_id", cmd.OwnerID, &v)
	input.Text("reason", cmd.Reason, MaxNoteLen, true, &v)
	if err := v.Err("invalid assignment"); err != nil {
		return nil, err
	}
	if cmd.OwnerID == o.OwnerID {
		return nil, nil
	}
	return []Event{OpportunityOwnerChanged{Previous: o.OwnerID, New: cmd.OwnerID, Reason: cmd.Reason, At: now}}, nil
}

// SetContactRoles decides SetContactRoles: roles replace the list (each contact once, at most
// one primary). The same list yields no events.
func SetContactRoles(o Opportunity, roles []ContactRole, now time.Time) ([]Event, error) {
	if err := writable(o); err != nil {
		return nil, err
	}
	var v apperr.Violations
	roles = normalizeRoles(roles, "roles", &v)
	if err := v.Err("invalid contact roles"); err != nil {
		return nil, err
	}
	if slices.Equal(roles, o.ContactRoles) {
		return nil, nil
	}
	return []Event{OpportunityContactRolesChanged{Roles: roles, At: now}}, nil
}
