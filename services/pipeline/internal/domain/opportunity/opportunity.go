// Package opportunity is the opportunity aggregate (aggregate type "opportunity", ids are
// UUIDv7 chosen by the caller): its state, its events, the fold (Apply) and the decisions —
// pure functions of the current state, a command, the pipeline the opportunity is in, the
// tenant's Policy and the time, returning the events to append or an apperr error. Nothing is
// decided for a rejected command, and a command that changes nothing returns no events.
//
// # Stages, probability and forecast category
//
// An opportunity is in one stage of one pipeline. Its probability and forecast category are the
// stage's defaults unless a person overrode them (UpdateProbability, UpdateForecastCategory).
// Every stage change resets both to the new stage's defaults and clears the overrides, as
// Salesforce does; the new values travel in OpportunityStageChanged (Probability, ToCategory),
// not as separate events. StageProbability and StageCategory remember the defaults of the stage
// as the opportunity entered it, so clearing an override restores them without the pipeline,
// and a later revision of the pipeline does not change opportunities already in the stage.
//
// Closing goes through MarkWon and MarkLost (never MoveStage), so the close date and the reasons
// are always captured: each records OpportunityStageChanged to the won or lost stage and then
// OpportunityWon or OpportunityLost. A closed opportunity accepts nothing but Reopen
// (FailedPrecondition OPPORTUNITY_CLOSED naming its status).
//
// # Time in stage
//
// StageEnteredAt is when the opportunity entered its current stage; a stage change records
// TimeInPrevious = now − StageEnteredAt. StageHistory has one StageVisit per stay, so a deal
// that goes A → B → A → B has four visits and the time in A is the sum of A's visits.
//
// # Dates
//
// Dates (expected close date, closed on, quote validity) are civil.Date: calendar days without
// a zone. "Today" is civil.DateOf(now) (the app passes now in UTC).
package opportunity

import (
	"slices"
	"time"

	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

// AggregateType is the event store's aggregate type of opportunities.
const AggregateType = "opportunity"

// Details are the descriptive fields of an opportunity: what Create takes and UpdateDetails
// changes by field mask.
type Details struct {
	// Name is required.
	Name string
	// AccountID, PrimaryContactID and PrimaryCampaignID are ids in the leads and campaign
	// services; the domain checks their form only.
	AccountID        string
	PrimaryContactID string
	NextStep         string
	Description      string
	// Source is where the deal came from; SourceUnspecified means unknown.
	Source            Source
	PrimaryCampaignID string
	// Competitors are names, trimmed, without duplicates (ignoring case), in the order given.
	Competitors []string
	// Tags are a set: lower-case, sorted, without duplicates.
	Tags []string
	// CustomFields are values of the tenant's opportunity custom fields, by name.
	CustomFields map[string]customfield.Value
}

func (d Details) clone() Details {
	d.Competitors = slices.Clone(d.Competitors)
	d.Tags = slices.Clone(d.Tags)
	d.CustomFields = cloneMap(d.CustomFields)
	return d
}

// ContactRole is a contact's role on the deal.
type ContactRole struct {
	ContactID string
	Role      Role
	// Primary marks the main contact of the deal; at most one role is primary.
	Primary bool
}

// StageVisit is one stay of the opportunity in a stage. Names are the stage's name at the time
// (a later rename does not rewrite history).
type StageVisit struct {
	StageID   string
	StageName string
	EnteredAt time.Time
	// LeftAt is zero while the opportunity is in the stage.
	LeftAt time.Time
	// MovedBy is who moved the opportunity into the stage; "" for the first visit (the
	// envelope of OpportunityCreated names the creator).
	MovedBy string
}

// Duration returns how long the visit lasted, or lasted until now while it goes on.
func (v StageVisit) Duration(now time.Time) time.Duration {
	end := v.LeftAt
	if end.IsZero() {
		end = now
	}
	return max(0, end.Sub(v.EnteredAt))
}

// Closing holds how a closed opportunity closed; it is zero while the opportunity is open.
type Closing struct {
	// ClosedOn is the day the deal was won or lost.
	ClosedOn civil.Date
	// Note is the person's note (the won reason, or more about the loss).
	Note string
	// LostReason and Competitor are set for lost deals (Competitor when the reason is
	// LostCompetitor).
	LostReason LostReason
	Competitor string
}

// Opportunity is the state of one opportunity, folded from its events. The zero Opportunity
// means it does not exist. Treat it as a value: Apply and the decisions never modify the maps
// and slices of an Opportunity they are given.
type Opportunity struct {
	ID string
	// Version is the number of events folded: 1 after OpportunityCreated.
	Version uint64
	Details
	// LeadID is the lead this opportunity was converted from, if any.
	LeadID  string
	OwnerID string
	// PipelineID, StageID and StageName say where the deal is. StageName is the name the stage
	// had when the opportunity entered it.
	PipelineID string
	StageID    string
	StageName  string
	// Amount is ≥ 0, in minor units of its currency.
	Amount money.Money
	// Probability is the win probability in percent; the stage's default unless
	// ProbabilityOverridden.
	Probability           int32
	ProbabilityOverridden bool
	// StageProbability and StageCategory are the current stage's defaults as the opportunity
	// entered it (what clearing an override restores).
	StageProbability  int32
	StageCategory     pipelinedef.Category
	ExpectedCloseDate civil.Date
	// ForecastCategory is the stage's default unless CategoryOverridden.
	ForecastCategory   pipelinedef.Category
	CategoryOverridden bool
	ContactRoles       []ContactRole
	Status             Status
	// Close is set while the opportunity is won or lost.
	Close Closing
	// StageEnteredAt is when the opportunity entered its current stage.
	StageEnteredAt time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// StageHistory lists every stay in a stage, oldest first; the last is the current one.
	StageHistory []StageVisit
	// Quotes holds every version of every quote, in the order they were made.
	Quotes []quote.Quote
}

// Exists reports whether the opportunity has been created.
func (o Opportunity) Exists() bool { return o.Version > 0 }

// Quote returns the latest version of quote id.
func (o Opportunity) Quote(id string) (quote.Quote, bool) {
	for i := len(o.Quotes) - 1; i >= 0; i-- {
		if o.Quotes[i].QuoteID == id {
			return o.Quotes[i], true
		}
	}
	return quote.Quote{}, false
}

// QuoteVersion returns version v of quote id.
func (o Opportunity) QuoteVersion(id string, v uint32) (quote.Quote, bool) {
	i := o.quoteIndex(id, v)
	if i < 0 {
		return quote.Quote{}, false
	}
	return o.Quotes[i], true
}

// LatestQuotes returns the latest version of every quote, in the order the quotes were first
// made.
func (o Opportunity) LatestQuotes() []quote.Quote {
	var ids []string
	for _, q := range o.Quotes {
		if !slices.Contains(ids, q.QuoteID) {
			ids = append(ids, q.QuoteID)
		}
	}
	out := make([]quote.Quote, 0, len(ids))
	for _, id := range ids {
		q, _ := o.Quote(id)
		out = append(out, q)
	}
	return out
}

// TimeInStage returns the total time spent in stage id over every visit, up to now.
func (o Opportunity) TimeInStage(id string, now time.Time) time.Duration {
	var d time.Duration
	for _, v := range o.StageHistory {
		if v.StageID == id {
			d += v.Duration(now)
		}
	}
	return d
}

func (o Opportunity) quoteIndex(id string, v uint32) int {
	return slices.IndexFunc(o.Quotes, func(q quote.Quote) bool { return q.QuoteID == id && q.Version == v })
}

func (o Opportunity) clone() Opportunity {
	o.Details = o.Details.clone()
	o.ContactRoles = slices.Clone(o.ContactRoles)
	o.StageHistory = slices.Clone(o.StageHistory)
	// Quote versions are replaced, never written into, so sharing their line slices is safe.
	o.Quotes = slices.Clone(o.Quotes)
	return o
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Policy is the tenant context opportunity decisions need (pipelinecfg.Config.Policy builds
// it).
type Policy struct {
	CustomFields map[string]customfield.Definition
	// MaxCloseDatePastDays is how many days before today an expected close date may lie.
	MaxCloseDatePastDays int32
	// DefaultCurrency is the currency of amounts given without one.
	DefaultCurrency string
}
