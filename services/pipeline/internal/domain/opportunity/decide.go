package opportunity

import (
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// Machine-readable reasons of FailedPrecondition errors.
const (
	// ReasonClosed: the opportunity is won or lost; only Reopen is allowed.
	ReasonClosed = "OPPORTUNITY_CLOSED"
	// ReasonNotClosed: Reopen on an open opportunity.
	ReasonNotClosed = "OPPORTUNITY_NOT_CLOSED"
	// ReasonPipelineArchived: a new opportunity in an archived pipeline.
	ReasonPipelineArchived = "PIPELINE_ARCHIVED"
	// ReasonQuoteStatus: the quote's status forbids the operation.
	ReasonQuoteStatus = "QUOTE_STATUS"
	// ReasonQuoteExpired: the quote's validity has passed.
	ReasonQuoteExpired = "QUOTE_EXPIRED"
	// ReasonQuoteSuperseded: the command named a version that is not the latest.
	ReasonQuoteSuperseded = "QUOTE_SUPERSEDED"
	// ReasonTooManyQuotes: MaxQuotes or MaxQuoteVersions reached.
	ReasonTooManyQuotes = "TOO_MANY_QUOTES"
	// ReasonNotFound is the Reason of the NotFound error for an opportunity that does not exist.
	ReasonNotFound = "OPPORTUNITY_NOT_FOUND"
	// ReasonQuoteNotFound is the Reason of the NotFound error for a quote that does not exist.
	ReasonQuoteNotFound = "QUOTE_NOT_FOUND"
)

func errNotFound() error {
	return &apperr.Error{Kind: apperr.NotFound, Reason: ReasonNotFound, Message: "opportunity not found"}
}

// existing checks that o exists.
func existing(o Opportunity) error {
	if !o.Exists() {
		return errNotFound()
	}
	return nil
}

// writable checks that o exists and is open: a closed opportunity accepts only Reopen.
func writable(o Opportunity) error {
	if err := existing(o); err != nil {
		return err
	}
	if o.Status.Closed() {
		return apperr.Precondition(ReasonClosed, "opportunity is %s: reopen it first", o.Status)
	}
	return nil
}

// inPipeline checks that the app passed the opportunity's own pipeline (a programming error
// otherwise, hence Internal).
func inPipeline(o Opportunity, p pipelinedef.Pipeline) error {
	if p.ID != o.PipelineID {
		return apperr.New(apperr.Internal, "decision for opportunity %s in pipeline %q got pipeline %q", o.ID, o.PipelineID, p.ID)
	}
	return nil
}

// today is the calendar day of now (see the package doc).
func today(now time.Time) civil.Date { return civil.DateOf(now) }

// builder accumulates a decision's events, folding each into a working state so that later
// steps of the decision see the effect of earlier ones exactly as Apply will.
type builder struct {
	o      Opportunity
	events []Event
}

func (b *builder) emit(e Event) {
	b.events = append(b.events, e)
	b.o = Apply(b.o, e)
}

// timeInStage is how long the working state has been in its stage at now.
func (b *builder) timeInStage(now time.Time) time.Duration {
	return max(0, now.Sub(b.o.StageEnteredAt))
}

// moveTo records the stage change of the working state into st (see OpportunityStageChanged).
func (b *builder) moveTo(p pipelinedef.Pipeline, st pipelinedef.Stage, by string, now time.Time) {
	o := b.o
	b.emit(OpportunityStageChanged{PipelineID: o.PipelineID, FromStageID: o.StageID, FromStageName: o.StageName,
		ToStageID: st.ID, ToStageName: st.Name, FromCategory: o.ForecastCategory, ToCategory: st.Category,
		Amount: o.Amount, Probability: st.Probability, TimeInPrevious: b.timeInStage(now), MovedBy: by,
		OwnerID: o.OwnerID, Direction: direction(p, o.StageID, st.ID), At: now})
}

// direction compares stage positions; a stage the pipeline no longer has counts as before every
// stage, so leaving it is forward.
func direction(p pipelinedef.Pipeline, from, to string) Direction {
	if p.Index(to) < p.Index(from) {
		return DirectionBackward
	}
	return DirectionForward
}
