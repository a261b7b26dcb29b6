package opportunity

import (
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

// Apply folds one event into the state. It is pure: o is not modified (slices and maps that
// change are copied), and the result depends only on o and e, never on the pipeline's or the
// tenant's current configuration — events carry every computed value (probabilities,
// categories, quote totals).
func Apply(o Opportunity, e Event) Opportunity { return ApplyAll(o, e) }

// ApplyAll folds events in order, purely like Apply. It copies o's slices and maps once and
// folds every event into that copy: loading an opportunity moved through 10,000 stages event
// by event copied its stage history 10,000 times (15 s, BenchmarkMoveStageHistory); this
// copies it once.
func ApplyAll(o Opportunity, events ...Event) Opportunity {
	if len(events) == 0 {
		return o
	}
	o = o.clone()
	for _, e := range events {
		o.apply(e)
	}
	return o
}

// apply folds e into o in place; o must own its slices and maps (a clone's).
func (o *Opportunity) apply(e Event) {
	if c, ok := e.(OpportunityCreated); ok {
		v := o.Version
		*o = c.Opportunity.clone()
		o.Version = v + 1
		return
	}
	o.Version++
	o.UpdatedAt = e.OccurredAt()
	switch e := e.(type) {
	case OpportunityDetailsUpdated:
		o.Details = applyLeaves(o.Details, e.After, e.Changed)
	case OpportunityStageChanged:
		if n := len(o.StageHistory); n > 0 {
			o.StageHistory[n-1].LeftAt = e.At
		}
		o.StageHistory = append(o.StageHistory, StageVisit{StageID: e.ToStageID, StageName: e.ToStageName,
			EnteredAt: e.At, MovedBy: e.MovedBy})
		o.StageID, o.StageName, o.StageEnteredAt = e.ToStageID, e.ToStageName, e.At
		o.Probability, o.StageProbability, o.ProbabilityOverridden = e.Probability, e.Probability, false
		o.ForecastCategory, o.StageCategory, o.CategoryOverridden = e.ToCategory, e.ToCategory, false
	case OpportunityAmountChanged:
		o.Amount = e.New
	case OpportunityCloseDateChanged:
		o.ExpectedCloseDate = e.New
	case OpportunityProbabilityChanged:
		o.Probability, o.ProbabilityOverridden = e.New, e.Overridden
	case OpportunityForecastCategoryChanged:
		o.ForecastCategory, o.CategoryOverridden = e.New, e.Overridden
	case OpportunityOwnerChanged:
		o.OwnerID = e.New
	case OpportunityContactRolesChanged:
		o.ContactRoles = append([]ContactRole(nil), e.Roles...)
	case OpportunityWon:
		o.Status = StatusWon
		o.Close = Closing{ClosedOn: e.ClosedOn, Note: e.Note}
	case OpportunityLost:
		o.Status = StatusLost
		o.Close = Closing{ClosedOn: e.ClosedOn, Note: e.Note, LostReason: e.Reason, Competitor: e.Competitor}
	case OpportunityReopened:
		o.Status = StatusOpen
		o.Close = Closing{}
	case QuoteCreated:
		o.Quotes = append(o.Quotes, e.Quote.Clone())
	case QuoteRevised:
		o.setQuoteStatus(e.Quote.QuoteID, e.PreviousVersion, quote.StatusSuperseded, e)
		o.Quotes = append(o.Quotes, e.Quote.Clone())
	case QuoteSent:
		o.setQuoteStatus(e.QuoteID, e.Version, quote.StatusSent, e)
	case QuoteAccepted:
		o.setQuoteStatus(e.QuoteID, e.Version, quote.StatusAccepted, e)
	case QuoteRejected:
		o.setQuoteStatus(e.QuoteID, e.Version, quote.StatusRejected, e)
	case QuoteExpired:
		o.setQuoteStatus(e.QuoteID, e.Version, quote.StatusExpired, e)
	}
}

// setQuoteStatus changes one quote version's status; o.Quotes must be o's own slice.
func (o *Opportunity) setQuoteStatus(id string, v uint32, s quote.Status, e Event) {
	if i := o.quoteIndex(id, v); i >= 0 {
		o.Quotes[i].Status = s
		o.Quotes[i].StatusChangedAt = e.OccurredAt()
	}
}
