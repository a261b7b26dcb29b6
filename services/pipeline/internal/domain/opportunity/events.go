package opportunity

import (
	"time"

	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

// Event is a fact about one opportunity (quotes included). The set is closed (the unexported
// method): the app's codec maps each type to the crm.pipeline.v1 message of the same name.
type Event interface {
	// EventType is the event's name and the last token of its subject, e.g.
	// "OpportunityStageChanged".
	EventType() string
	// OccurredAt is when the fact happened (the decision's now).
	OccurredAt() time.Time
	isOpportunityEvent()
}

// OpportunityCreated is the first event of every opportunity: the opportunity as created,
// with its first StageVisit, so a consumer needs nothing else.
type OpportunityCreated struct {
	Opportunity Opportunity
	At          time.Time
}

// OpportunityDetailsUpdated records changed descriptive fields. Changed lists the leaf paths
// that changed in canonical order (see Paths; "custom_fields.<name>" after them); Before and
// After hold the old and new values of exactly those paths (every other field is zero). A custom
// field that was cleared is listed in Changed and absent from After.
type OpportunityDetailsUpdated struct {
	Changed []string
	Before  Details
	After   Details
	At      time.Time
}

// OpportunityStageChanged is every stage change: MoveStage, the move into the won or lost stage
// of MarkWon and MarkLost, and the move back to an open stage of Reopen. It carries what
// velocity and forecast consumers need without a lookup: from/to stage (ids and names at the
// time), from/to forecast category, the amount, the new probability (the new stage's default:
// a stage change clears probability and category overrides), the time spent in the previous
// stage, who moved it and who owns it.
type OpportunityStageChanged struct {
	PipelineID    string
	FromStageID   string
	FromStageName string
	ToStageID     string
	ToStageName   string
	FromCategory  pipelinedef.Category
	ToCategory    pipelinedef.Category
	Amount        money.Money
	// Probability is the opportunity's probability after the change.
	Probability    int32
	TimeInPrevious time.Duration
	MovedBy        string
	OwnerID        string
	// Direction compares the stages' positions in the pipeline; a move out of a stage the
	// pipeline no longer has counts as forward.
	Direction Direction
	At        time.Time
}

// OpportunityAmountChanged records a new amount. QuoteID names the accepted quote when Reason
// is AmountQuoteAccepted.
type OpportunityAmountChanged struct {
	Old     money.Money
	New     money.Money
	Reason  AmountChangeReason
	QuoteID string
	At      time.Time
}

// OpportunityCloseDateChanged records a new expected close date. DaysMoved is New − Old in
// days: positive when the deal was pushed out (what forecasting watches), negative when pulled
// in.
type OpportunityCloseDateChanged struct {
	Old       civil.Date
	New       civil.Date
	DaysMoved int32
	At        time.Time
}

// OpportunityProbabilityChanged records a probability set by a person (Overridden) or restored
// to the stage's default (not Overridden).
type OpportunityProbabilityChanged struct {
	Old        int32
	New        int32
	Overridden bool
	At         time.Time
}

// OpportunityForecastCategoryChanged records a forecast category set by a person (Overridden)
// or restored to the stage's default (not Overridden).
type OpportunityForecastCategoryChanged struct {
	Old        pipelinedef.Category
	New        pipelinedef.Category
	Overridden bool
	At         time.Time
}

// OpportunityOwnerChanged records a new owner. Reason is the person's note.
type OpportunityOwnerChanged struct {
	Previous string
	New      string
	Reason   string
	At       time.Time
}

// OpportunityContactRolesChanged carries the whole new list of contact roles.
type OpportunityContactRolesChanged struct {
	Roles []ContactRole
	At    time.Time
}

// Deal is what a consumer of a close needs to know about the deal without folding its history
// (campaign attribution, win rates by owner, source or pipeline): the opportunity's attributes
// when it closed.
type Deal struct {
	PipelineID        string
	OwnerID           string
	AccountID         string
	LeadID            string
	PrimaryCampaignID string
	Source            Source
}

// dealOf returns the close context of o.
func dealOf(o Opportunity) Deal {
	return Deal{PipelineID: o.PipelineID, OwnerID: o.OwnerID, AccountID: o.AccountID, LeadID: o.LeadID,
		PrimaryCampaignID: o.PrimaryCampaignID, Source: o.Source}
}

// OpportunityWon follows the OpportunityStageChanged into the won stage (and the
// OpportunityAmountChanged when the final amount differed). FromStageID and TimeInPrevious
// describe the open stage the deal was won from; DaysOpen is ClosedOn − the creation day.
type OpportunityWon struct {
	FinalAmount    money.Money
	Note           string
	ClosedOn       civil.Date
	FromStageID    string
	TimeInPrevious time.Duration
	DaysOpen       int32
	Deal           Deal
	At             time.Time
}

// OpportunityLost follows the OpportunityStageChanged into a lost stage. Amount is the deal's
// amount when it was lost (lost revenue); DaysOpen is ClosedOn − the creation day.
type OpportunityLost struct {
	Reason LostReason
	// Competitor is set when Reason is LostCompetitor.
	Competitor     string
	Note           string
	ClosedOn       civil.Date
	FromStageID    string
	TimeInPrevious time.Duration
	Amount         money.Money
	DaysOpen       int32
	Deal           Deal
	At             time.Time
}

// OpportunityReopened makes a closed opportunity open again; the OpportunityStageChanged to
// ToStageID follows in the same batch.
type OpportunityReopened struct {
	ToStageID      string
	ToStageName    string
	PreviousStatus Status
	At             time.Time
}

// QuoteCreated carries the first version of a quote (Draft), totals computed.
type QuoteCreated struct {
	Quote quote.Quote
	At    time.Time
}

// QuoteRevised carries a new version of a quote (Draft, totals computed); the previous
// version becomes Superseded.
type QuoteRevised struct {
	Quote           quote.Quote
	PreviousVersion uint32
	At              time.Time
}

// QuoteSent records that a draft was sent to the customer.
type QuoteSent struct {
	QuoteID string
	Version uint32
	At      time.Time
}

// QuoteAccepted records the customer's acceptance; an OpportunityAmountChanged (reason
// AmountQuoteAccepted) follows when Total differs from the opportunity's amount.
type QuoteAccepted struct {
	QuoteID string
	Version uint32
	Total   money.Money
	At      time.Time
}

// QuoteRejected records the customer's rejection.
type QuoteRejected struct {
	QuoteID string
	Version uint32
	Reason  string
	At      time.Time
}

// QuoteExpired records that a draft or sent quote's validity passed.
type QuoteExpired struct {
	QuoteID string
	Version uint32
	At      time.Time
}

// EventType implements Event.
func (OpportunityCreated) EventType() string            { return "OpportunityCreated" }
func (OpportunityDetailsUpdated) EventType() string     { return "OpportunityDetailsUpdated" }
func (OpportunityStageChanged) EventType() string       { return "OpportunityStageChanged" }
func (OpportunityAmountChanged) EventType() string      { return "OpportunityAmountChanged" }
func (OpportunityCloseDateChanged) EventType() string   { return "OpportunityCloseDateChanged" }
func (OpportunityProbabilityChanged) EventType() string { return "OpportunityProbabilityChanged" }
func (OpportunityForecastCategoryChanged) EventType() string {
	return "OpportunityForecastCategoryChanged"
}
func (OpportunityOwnerChanged) EventType() string        { return "OpportunityOwnerChanged" }
func (OpportunityContactRolesChanged) EventType() string { return "OpportunityContactRolesChanged" }
func (OpportunityWon) EventType() string                 { return "OpportunityWon" }
func (OpportunityLost) EventType() string                { return "OpportunityLost" }
func (OpportunityReopened) EventType() string            { return "OpportunityReopened" }
func (QuoteCreated) EventType() string                   { return "QuoteCreated" }
func (QuoteRevised) EventType() string                   { return "QuoteRevised" }
func (QuoteSent) EventType() string                      { return "QuoteSent" }
func (QuoteAccepted) EventType() string                  { return "QuoteAccepted" }
func (QuoteRejected) EventType() string                  { return "QuoteRejected" }
func (QuoteExpired) EventType() string                   { return "QuoteExpired" }

// OccurredAt implements Event.
func (e OpportunityCreated) OccurredAt() time.Time                 { return e.At }
func (e OpportunityDetailsUpdated) OccurredAt() time.Time          { return e.At }
func (e OpportunityStageChanged) OccurredAt() time.Time            { return e.At }
func (e OpportunityAmountChanged) OccurredAt() time.Time           { return e.At }
func (e OpportunityCloseDateChanged) OccurredAt() time.Time        { return e.At }
func (e OpportunityProbabilityChanged) OccurredAt() time.Time      { return e.At }
func (e OpportunityForecastCategoryChanged) OccurredAt() time.Time { return e.At }
func (e OpportunityOwnerChanged) OccurredAt() time.Time            { return e.At }
func (e OpportunityContactRolesChanged) OccurredAt() time.Time     { return e.At }
func (e OpportunityWon) OccurredAt() time.Time                     { return e.At }
func (e OpportunityLost) OccurredAt() time.Time                    { return e.At }
func (e OpportunityReopened) OccurredAt() time.Time                { return e.At }
func (e QuoteCreated) OccurredAt() time.Time                       { return e.At }
func (e QuoteRevised) OccurredAt() time.Time                       { return e.At }
func (e QuoteSent) OccurredAt() time.Time                          { return e.At }
func (e QuoteAccepted) OccurredAt() time.Time                      { return e.At }
func (e QuoteRejected) OccurredAt() time.Time                      { return e.At }
func (e QuoteExpired) OccurredAt() time.Time                       { return e.At }

func (OpportunityCreated) isOpportunityEvent()                 {}
func (OpportunityDetailsUpdated) isOpportunityEvent()          {}
func (OpportunityStageChanged) isOpportunityEvent()            {}
func (OpportunityAmountChanged) isOpportunityEvent()           {}
func (OpportunityCloseDateChanged) isOpportunityEvent()        {}
func (OpportunityProbabilityChanged) isOpportunityEvent()      {}
func (OpportunityForecastCategoryChanged) isOpportunityEvent() {}
func (OpportunityOwnerChanged) isOpportunityEvent()            {}
func (OpportunityContactRolesChanged) isOpportunityEvent()     {}
func (OpportunityWon) isOpportunityEvent()                     {}
func (OpportunityLost) isOpportunityEvent()                    {}
func (OpportunityReopened) isOpportunityEvent()                {}
func (QuoteCreated) isOpportunityEvent()                       {}
func (QuoteRevised) isOpportunityEvent()                       {}
func (QuoteSent) isOpportunityEvent()                          {}
func (QuoteAccepted) isOpportunityEvent()                      {}
func (QuoteRejected) isOpportunityEvent()                      {}
func (QuoteExpired) isOpportunityEvent()                       {}
