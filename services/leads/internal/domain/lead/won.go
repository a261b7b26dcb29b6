package lead

import (
	"slices"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
)

// OpportunityWin is the RecordOpportunityWon command: the pipeline service closed won an
// opportunity that names this lead as its origin (its deal's lead_id). The leads service's
// reaction to OpportunityWon builds it; no user sends it.
type OpportunityWin struct {
	OpportunityID string
	// WonAt is when the opportunity was won: the OpportunityWon's occurred_at, the business time
	// of the win (not when the reaction ran); required.
	WonAt time.Time
	// Amount is the final amount; the zero Money when the deal had none.
	Amount Money
	// CloseDate is the business date it closed, YYYY-MM-DD; "" when unknown.
	CloseDate string
}

// LeadOpportunityWon records that an opportunity this lead became was closed won: the lead
// funnel's last step ("won"), foldable from the lead's own stream the way a CRM moves a
// contact's lifecycle stage to customer when a deal closes won. The lead's status does not
// change (a converted lead stays CONVERTED).
type LeadOpportunityWon struct {
	OpportunityID string
	WonAt         time.Time
	Amount        Money
	CloseDate     string
	At            time.Time
}

// EventType implements Event.
func (LeadOpportunityWon) EventType() string { return "LeadOpportunityWon" }

// OccurredAt implements Event.
func (e LeadOpportunityWon) OccurredAt() time.Time { return e.At }

func (LeadOpportunityWon) isLeadEvent() {}

// closeDateLayout is the layout of OpportunityWin.CloseDate.
const closeDateLayout = "2006-01-02"

// RecordOpportunityWon decides RecordOpportunityWon. Any existing lead records the win —
// normally a converted one, but also one merged away or never converted (an opportunity created
// by hand with a lead id): the pipeline says the deal came from this lead, and the funnel
// credits the lead that started it. The record is idempotent per opportunity: the win of an
// opportunity already recorded (won again after a reopen, or the same win redelivered after its
// idempotency key expired) yields no events, so the funnel counts each opportunity's first win.
func RecordOpportunityWon(l Lead, cmd OpportunityWin, now time.Time) ([]Event, error) {
	if !l.Exists() {
		return nil, errNotFound()
	}
	var v apperr.Violations
	if !ValidID(cmd.OpportunityID) {
		v.Add("opportunity_id", "must match [A-Za-z0-9_-]{1,64}")
	}
	if cmd.WonAt.IsZero() {
		v.Add("won_at", "is required")
	}
	if !cmd.Amount.IsZero() && !cmd.Amount.valid() {
		v.Add("amount", "must be an amount with an ISO 4217 currency")
	}
	if cmd.CloseDate != "" {
		if _, err := time.Parse(closeDateLayout, cmd.CloseDate); err != nil {
			v.Add("close_date", "must be a date YYYY-MM-DD")
		}
	}
	if err := v.Err("invalid opportunity win"); err != nil {
		return nil, err
	}
	if slices.Contains(l.WonOpportunityIDs, cmd.OpportunityID) {
		return nil, nil
	}
	return []Event{LeadOpportunityWon{OpportunityID: cmd.OpportunityID, WonAt: cmd.WonAt.UTC(),
		Amount: cmd.Amount, CloseDate: cmd.CloseDate, At: now}}, nil
}
