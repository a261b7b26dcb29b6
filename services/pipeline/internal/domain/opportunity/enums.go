package opportunity

import "strconv"

// Every enum below numbers its values like the crm.pipeline.v1 proto enum of the same name, so
// the mapping is a cast; the zero value is always "unspecified".

// Status is whether an opportunity is still being worked.
type Status int

// Statuses.
const (
	StatusUnspecified Status = iota
	StatusOpen
	StatusWon
	StatusLost
)

var statusNames = [...]string{"UNSPECIFIED", "OPEN", "WON", "LOST"}

// String returns the upper-case name used in API errors, e.g. "WON".
func (s Status) String() string { return enumName(statusNames[:], int(s), "status") }

// Closed reports whether s is Won or Lost.
func (s Status) Closed() bool { return s == StatusWon || s == StatusLost }

// Source is where an opportunity came from (the leads service's lead sources).
type Source int

// Sources. SourceUnspecified is allowed and means unknown.
const (
	SourceUnspecified Source = iota
	SourceWebForm
	SourceEvent
	SourceReferral
	SourceAdvertisement
	SourceSocial
	SourceEmail
	SourcePartner
	SourceImport
	SourceOther
)

var sourceNames = [...]string{"unspecified", "web_form", "event", "referral", "advertisement",
	"social", "email", "partner", "import", "other"}

// String returns the snake_case name, e.g. "web_form".
func (s Source) String() string { return enumName(sourceNames[:], int(s), "source") }

// Valid reports whether s is a defined source, SourceUnspecified (unknown) included.
func (s Source) Valid() bool { return s >= SourceUnspecified && int(s) < len(sourceNames) }

// Role is a contact's role on a deal.
type Role int

// Contact roles.
const (
	RoleUnspecified Role = iota
	RoleDecisionMaker
	RoleEconomicBuyer
	RoleInfluencer
	RoleChampion
	RoleUser
	RoleOther
)

var roleNames = [...]string{"unspecified", "decision_maker", "economic_buyer", "influencer", "champion", "user", "other"}

// String returns the snake_case name.
func (r Role) String() string { return enumName(roleNames[:], int(r), "role") }

// Valid reports whether r is a defined role other than RoleUnspecified.
func (r Role) Valid() bool { return r > RoleUnspecified && int(r) < len(roleNames) }

// LostReason says why a deal was lost.
type LostReason int

// Lost reasons.
const (
	LostUnspecified LostReason = iota
	LostPrice
	// LostCompetitor needs the competitor's name.
	LostCompetitor
	LostNoDecision
	LostTiming
	LostProductFit
	LostOther
)

var lostNames = [...]string{"unspecified", "price", "competitor", "no_decision", "timing", "product_fit", "other"}

// String returns the snake_case name.
func (r LostReason) String() string { return enumName(lostNames[:], int(r), "reason") }

// Valid reports whether r is a defined reason other than LostUnspecified.
func (r LostReason) Valid() bool { return r > LostUnspecified && int(r) < len(lostNames) }

// Direction says whether a stage change went forward or backward in the pipeline's stage order.
type Direction int

// Directions.
const (
	DirectionUnspecified Direction = iota
	DirectionForward
	DirectionBackward
)

var directionNames = [...]string{"UNSPECIFIED", "FORWARD", "BACKWARD"}

// String returns the upper-case name.
func (d Direction) String() string { return enumName(directionNames[:], int(d), "direction") }

// AmountChangeReason says why an opportunity's amount changed.
type AmountChangeReason int

// Amount change reasons.
const (
	AmountReasonUnspecified AmountChangeReason = iota
	// AmountManual: a person set it (UpdateAmount).
	AmountManual
	// AmountQuoteAccepted: an accepted quote's total became the amount.
	AmountQuoteAccepted
	// AmountWon: MarkWon recorded a final amount.
	AmountWon
)

var amountReasonNames = [...]string{"UNSPECIFIED", "MANUAL", "QUOTE_ACCEPTED", "WON"}

// String returns the upper-case name.
func (r AmountChangeReason) String() string { return enumName(amountReasonNames[:], int(r), "reason") }

func enumName(names []string, i int, what string) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return what + "(" + strconv.Itoa(i) + ")"
}
