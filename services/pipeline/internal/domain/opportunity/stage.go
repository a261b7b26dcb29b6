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

// StageMove is the MoveStage command.
type StageMove struct {
	// StageID is an open stage of the opportunity's pipeline.
	StageID string
	// MovedBy is the user (or service principal) who moves it.
	MovedBy string
}

// MoveStage decides a move, forward or back, to another open stage of the opportunity's
// pipeline p. Won and lost stages are refused (MarkWon and MarkLost capture the close); a stage
// of another pipeline is Invalid on "stage_id"; the current stage yields no events. The move
// resets probability and forecast category to the new stage's defaults.
func MoveStage(o Opportunity, cmd StageMove, p pipelinedef.Pipeline, now time.Time) ([]Event, error) {
	if err := writable(o); err != nil {
		return nil, err
	}
	if err := inPipeline(o, p); err != nil {
		return nil, err
	}
	cmd.StageID, cmd.MovedBy = strings.TrimSpace(cmd.StageID), strings.TrimSpace(cmd.MovedBy)
	var v apperr.Violations
	st := openStage("stage_id", cmd.StageID, p, &v)
	checkUser("moved_by", cmd.MovedBy, &v)
	if err := v.Err("invalid stage move"); err != nil {
		return nil, err
	}
	if st.ID == o.StageID {
		return nil, nil
	}
	b := builder{o: o}
	b.moveTo(p, st, cmd.MovedBy, now)
	return b.events, nil
}

// openStage returns the open stage id of p, or adds a violation for field.
func openStage(field, id string, p pipelinedef.Pipeline, v *apperr.Violations) pipelinedef.Stage {
	st, ok := p.StageByID(id)
	switch {
	case id == "":
		v.Add(field, "is required")
	case !ok:
		v.Add(field, "is not a stage of pipeline %q", p.ID)
	case st.Kind == pipelinedef.KindWon:
		v.Add(field, "%q is the won stage: use MarkWon", id)
	case st.Kind == pipelinedef.KindLost:
		v.Add(field, "%q is a lost stage: use MarkLost", id)
	}
	return st
}

// Win is the MarkWon command.
type Win struct {
	// FinalAmount, when set, becomes the amount (≥ 0, minor units; an empty currency is the
	// opportunity's).
	FinalAmount *money.Money
	// Note is the won reason, free text.
	Note string
	// ClosedOn defaults to today; it cannot be in the future.
	ClosedOn civil.Date
	MovedBy  string
}

// MarkWon decides closing the deal as won: OpportunityStageChanged into p's won stage (probability
// 100, category closed), OpportunityAmountChanged (reason AmountWon) when the final amount
// differs, then OpportunityWon.
func MarkWon(o Opportunity, cmd Win, p pipelinedef.Pipeline, now time.Time) ([]Event, error) {
	if err := writable(o); err != nil {
		return nil, err
	}
	if err := inPipeline(o, p); err != nil {
		return nil, err
	}
	cmd.Note, cmd.MovedBy = strings.TrimSpace(cmd.Note), strings.TrimSpace(cmd.MovedBy)
	var v apperr.Violations
	final := o.Amount
	if cmd.FinalAmount != nil {
		final = checkAmount("final_amount", *cmd.FinalAmount, o.Amount.Currency, o, &v)
	}
	input.Text("note", cmd.Note, MaxNoteLen, true, &v)
	closedOn := closeDay("closed_on", cmd.ClosedOn, now, &v)
	checkUser("moved_by", cmd.MovedBy, &v)
	if err := v.Err("invalid win"); err != nil {
		return nil, err
	}
	won, ok := p.WonStage()
	if !ok {
		return nil, apperr.New(apperr.Internal, "pipeline %q has no won stage", p.ID)
	}
	b := builder{o: o}
	from, spent := o.StageID, b.timeInStage(now)
	if o.StageID != won.ID {
		b.moveTo(p, won, cmd.MovedBy, now)
	}
	if !final.Equal(o.Amount) {
		b.emit(OpportunityAmountChanged{Old: o.Amount, New: final, Reason: AmountWon, At: now})
	}
	b.emit(OpportunityWon{FinalAmount: final, Note: cmd.Note, ClosedOn: closedOn, FromStageID: from,
		TimeInPrevious: spent, DaysOpen: daysOpen(o, closedOn), Deal: dealOf(o), At: now})
	return b.events, nil
}

// Loss is the MarkLost command.
type Loss struct {
	Reason LostReason
	// Competitor is required when Reason is LostCompetitor (who won the deal).
	Competitor string
	Note       string
	// ClosedOn defaults to today; it cannot be in the future.
	ClosedOn civil.Date
	// StageID picks one of the pipeline's lost stages; "" means the first.
	StageID string
	MovedBy string
}

// MarkLost decides closing the deal as lost: OpportunityStageChanged into a lost stage
// (probability 0, category omitted), then OpportunityLost.
func MarkLost(o Opportunity, cmd Loss, p pipelinedef.Pipeline, now time.Time) ([]Event, error) {
	if err := writable(o); err != nil {
		return nil, err
	}
	if err := inPipeline(o, p); err != nil {
		return nil, err
	}
	cmd.Competitor, cmd.Note = strings.TrimSpace(cmd.Competitor), strings.TrimSpace(cmd.Note)
	cmd.StageID, cmd.MovedBy = strings.TrimSpace(cmd.StageID), strings.TrimSpace(cmd.MovedBy)
	var v apperr.Violations
	if !cmd.Reason.Valid() {
		v.Add("reason", "must be one of price, competitor, no_decision, timing, product_fit, other")
	}
	switch {
	case cmd.Reason == LostCompetitor && cmd.Competitor == "":
		v.Add("competitor", "name the competitor that won the deal")
	default:
		input.Text("competitor", cmd.Competitor, MaxCompetitorLen, false, &v)
	}
	input.Text("note", cmd.Note, MaxNoteLen, true, &v)
	closedOn := closeDay("closed_on", cmd.ClosedOn, now, &v)
	checkUser("moved_by", cmd.MovedBy, &v)
	lost, ok := p.LostStage()
	if cmd.StageID != "" {
		lost, ok = p.StageByID(cmd.StageID)
		if !ok || lost.Kind != pipelinedef.KindLost {
			v.Add("stage_id", "is not a lost stage of pipeline %q", p.ID)
		}
	}
	if err := v.Err("invalid loss"); err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.New(apperr.Internal, "pipeline %q has no lost stage", p.ID)
	}
	b := builder{o: o}
	from, spent := o.StageID, b.timeInStage(now)
	if o.StageID != lost.ID {
		b.moveTo(p, lost, cmd.MovedBy, now)
	}
	b.emit(OpportunityLost{Reason: cmd.Reason, Competitor: cmd.Competitor, Note: cmd.Note, ClosedOn: closedOn,
		FromStageID: from, TimeInPrevious: spent, Amount: o.Amount, DaysOpen: daysOpen(o, closedOn), Deal: dealOf(o), At: now})
	return b.events, nil
}

// daysOpen is the number of days from the creation day to the close day, never negative.
func daysOpen(o Opportunity, closedOn civil.Date) int32 {
	return int32(max(0, closedOn.DaysSince(civil.DateOf(o.CreatedAt))))
}

// closeDay returns the close day: d, or today when d is zero; a day after today is a violation.
func closeDay(field string, d civil.Date, now time.Time, v *apperr.Violations) civil.Date {
	t := today(now)
	switch {
	case d.IsZero():
		return t
	case !d.Valid():
		v.Add(field, "is not a calendar date")
	case d.After(t):
		v.Add(field, "must not be after today (%s)", t)
	}
	return d
}

// Reopening is the ReopenOpportunity command.
type Reopening struct {
	// StageID is the open stage to reopen into; "" means the last open stage the opportunity
	// was in that the pipeline still has (else the pipeline's first open stage).
	StageID string
	MovedBy string
}

// Reopen decides reopening a won or lost opportunity: OpportunityReopened, then
// OpportunityStageChanged into the open stage (probability and category from that stage). The
// amount stays as it was.
func Reopen(o Opportunity, cmd Reopening, p pipelinedef.Pipeline, now time.Time) ([]Event, error) {
	if err := existing(o); err != nil {
		return nil, err
	}
	if !o.Status.Closed() {
		return nil, apperr.Precondition(ReasonNotClosed, "opportunity is %s: only won or lost opportunities can be reopened", o.Status)
	}
	if err := inPipeline(o, p); err != nil {
		return nil, err
	}
	cmd.StageID, cmd.MovedBy = strings.TrimSpace(cmd.StageID), strings.TrimSpace(cmd.MovedBy)
	var v apperr.Violations
	var st pipelinedef.Stage
	if cmd.StageID != "" {
		st = openStage("stage_id", cmd.StageID, p, &v)
	}
	checkUser("moved_by", cmd.MovedBy, &v)
	if err := v.Err("invalid reopen"); err != nil {
		return nil, err
	}
	if cmd.StageID == "" {
		var ok bool
		if st, ok = lastOpenStage(o, p); !ok {
			return nil, apperr.New(apperr.Internal, "pipeline %q has no open stage", p.ID)
		}
	}
	b := builder{o: o}
	b.emit(OpportunityReopened{ToStageID: st.ID, ToStageName: st.Name, PreviousStatus: o.Status, At: now})
	b.moveTo(p, st, cmd.MovedBy, now)
	return b.events, nil
}

// lastOpenStage returns the open stage of p the opportunity was in last, or p's first open
// stage when it was in none that p still has.
func lastOpenStage(o Opportunity, p pipelinedef.Pipeline) (pipelinedef.Stage, bool) {
	for i := len(o.StageHistory) - 1; i >= 0; i-- {
		if st, ok := p.StageByID(o.StageHistory[i].StageID); ok && st.Kind == pipelinedef.KindOpen {
			return st, true
		}
	}
	return p.FirstOpenStage()
}
