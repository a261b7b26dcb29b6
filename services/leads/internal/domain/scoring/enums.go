package scoring

import "strconv"

// Signal is a kind of behaviour that earns engagement points. The numbering follows the
// proto enum crm.leads.v1.EngagementSignal.
type Signal int

// Signals. The zero value is not a valid signal.
const (
	SignalUnspecified Signal = iota
	SignalEmailOpened
	SignalEmailClicked
	SignalCampaignResponded
	SignalWebVisit
	SignalFormFilled
	// SignalCall is a logged call activity with the lead.
	SignalCall
	// SignalMeeting is a logged meeting activity with the lead.
	SignalMeeting
	// SignalEmailReplied is an email activity: the lead wrote back.
	SignalEmailReplied
	// SignalProductUsage is use of the product (trial, freemium); reaching the MQL threshold
	// through it qualifies the lead on the product (PQL) path.
	SignalProductUsage
	// SignalUnsubscribed is negative engagement.
	SignalUnsubscribed
	// SignalNote is a note activity logged by a rep; recorded for the timeline, 0 points by
	// default because it is not the lead's behaviour.
	SignalNote
	// SignalEventAttended is attendance at an event or webinar.
	SignalEventAttended
)

var signalNames = [...]string{"unspecified", "email_opened", "email_clicked", "campaign_responded",
	"web_visit", "form_filled", "call", "meeting", "email_replied", "product_usage", "unsubscribed",
	"note", "event_attended"}

// String returns the snake_case name of s.
func (s Signal) String() string {
	if s >= 0 && int(s) < len(signalNames) {
		return signalNames[s]
	}
	return "signal(" + strconv.Itoa(int(s)) + ")"
}

// Valid reports whether s is a defined signal other than SignalUnspecified.
func (s Signal) Valid() bool { return s > SignalUnspecified && int(s) < len(signalNames) }

// Signals returns every valid signal in order.
func Signals() []Signal {
	out := make([]Signal, 0, len(signalNames)-1)
	for s := SignalUnspecified + 1; s.Valid(); s++ {
		out = append(out, s)
	}
	return out
}

// Temperature summarises a total score with the model's thresholds.
type Temperature int

// Temperatures. The zero value means "not scored".
const (
	TemperatureUnspecified Temperature = iota
	TemperatureCold
	TemperatureWarm
	TemperatureHot
)

var temperatureNames = [...]string{"unspecified", "cold", "warm", "hot"}

// String returns the lower-case name of t.
func (t Temperature) String() string {
	if t >= 0 && int(t) < len(temperatureNames) {
		return temperatureNames[t]
	}
	return "temperature(" + strconv.Itoa(int(t)) + ")"
}

// Op compares a lead field with a rule's values. The numbering follows crm.leads.v1.FitOperator.
type Op int

// Operators. Text comparisons are case-insensitive; numeric ones compare integers.
const (
	OpUnspecified Op = iota
	// OpEquals: the field equals the one value.
	OpEquals
	// OpIn: the field equals one of the values.
	OpIn
	// OpContains: the text field contains the one value (a keyword).
	OpContains
	// OpPrefix: the text field starts with the one value.
	OpPrefix
	// OpGTE: the numeric field is ≥ the one value.
	OpGTE
	// OpLTE: the numeric field is ≤ the one value.
	OpLTE
	// OpBetween: the numeric field is within the two values, inclusive.
	OpBetween
)

var opNames = [...]string{"unspecified", "equals", "in", "contains", "prefix", "gte", "lte", "between"}

// String returns the lower-case name of o.
func (o Op) String() string {
	if o >= 0 && int(o) < len(opNames) {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Valid reports whether o is a defined operator other than OpUnspecified.
func (o Op) Valid() bool { return o > OpUnspecified && o <= OpBetween }
