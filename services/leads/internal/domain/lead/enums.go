package lead

import "strconv"

// Every enum below numbers its values like the proto enum of the same name in crm.leads.v1, so
// the mapping is a cast; the zero value is always "unspecified" and is never valid in a command.

// Status is a lead's lifecycle position.
type Status int

// Statuses.
const (
	StatusUnspecified Status = iota
	// StatusNew is a raw lead.
	StatusNew
	// StatusMQL is marketing qualified (or product qualified, see QualificationPath).
	StatusMQL
	// StatusSAL is sales accepted: sales agreed to work it.
	StatusSAL
	// StatusSQL is sales qualified: BANT confirmed as the tenant requires.
	StatusSQL
	// StatusConverted is final: the lead became contact, account and opportunity.
	StatusConverted
	// StatusDisqualified is closed with a DisqualifyReason; it can be recycled.
	StatusDisqualified
	// StatusRecycled is back to nurture; it returns to NEW (as a remarket lead) when it engages.
	StatusRecycled
)

var statusNames = [...]string{"UNSPECIFIED", "NEW", "MARKETING_QUALIFIED", "SALES_ACCEPTED",
	"SALES_QUALIFIED", "CONVERTED", "DISQUALIFIED", "RECYCLED"}

// String returns the upper-case name used in API errors, e.g. "SALES_ACCEPTED".
func (s Status) String() string { return enumName(statusNames[:], int(s), "status") }

// Valid reports whether s is a defined status other than StatusUnspecified.
func (s Status) Valid() bool { return s > StatusUnspecified && int(s) < len(statusNames) }

// Open reports whether a lead in s is still being worked (may be disqualified).
func (s Status) Open() bool {
	switch s {
	case StatusNew, StatusMQL, StatusSAL, StatusSQL, StatusRecycled:
		return true
	}
	return false
}

// Source is where a lead came from.
type Source int

// Sources.
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

// String returns the snake_case name, e.g. "web_form" (also the value scoring rules compare).
func (s Source) String() string { return enumName(sourceNames[:], int(s), "source") }

// Valid reports whether s is a defined source other than SourceUnspecified.
func (s Source) Valid() bool { return s > SourceUnspecified && int(s) < len(sourceNames) }

// ParseSource returns the source named s ("web_form", …), case-sensitive.
func ParseSource(s string) (Source, bool) {
	for i, n := range sourceNames {
		if i > 0 && n == s {
			return Source(i), true
		}
	}
	return SourceUnspecified, false
}

// QualificationPath tells how a lead reached MQL.
type QualificationPath int

// Qualification paths.
const (
	PathUnspecified QualificationPath = iota
	// PathManual: a person qualified it.
	PathManual
	// PathScore: its total score reached the model's MQL threshold (automatic).
	PathScore
	// PathProduct: product usage qualified it (PQL), by a person or by product-usage
	// engagement reaching the threshold.
	PathProduct
)

var pathNames = [...]string{"unspecified", "manual", "score", "product"}

// String returns the lower-case name.
func (p QualificationPath) String() string { return enumName(pathNames[:], int(p), "path") }

// DisqualifyReason says why a lead was disqualified.
type DisqualifyReason int

// Disqualify reasons.
const (
	DisqualifyUnspecified DisqualifyReason = iota
	DisqualifyJunk
	// DisqualifyNoResponse: no response, dead.
	DisqualifyNoResponse
	DisqualifyNotAFit
	DisqualifyCompetitor
	// DisqualifyDuplicate: set by Merge on the merged lead (and usable by hand).
	DisqualifyDuplicate
	DisqualifyOther
)

var disqualifyNames = [...]string{"unspecified", "junk", "no_response", "not_a_fit", "competitor",
	"duplicate", "other"}

// String returns the snake_case name.
func (r DisqualifyReason) String() string { return enumName(disqualifyNames[:], int(r), "reason") }

// Valid reports whether r is a defined reason other than DisqualifyUnspecified.
func (r DisqualifyReason) Valid() bool {
	return r > DisqualifyUnspecified && int(r) < len(disqualifyNames)
}

// AssignmentReason says why a lead got its current owner.
type AssignmentReason int

// Assignment reasons.
const (
	AssignUnspecified AssignmentReason = iota
	// AssignRoundRobin: the territory's round-robin rule picked the rep.
	AssignRoundRobin
	// AssignTerritoryOwner: the territory's fixed owner.
	AssignTerritoryOwner
	// AssignManual: a person chose the owner (on create or by reassigning). A manually chosen
	// owner is kept when the lead later changes territory.
	AssignManual
	// AssignTerritoryChange: the lead moved to another territory and its rule picked the owner.
	AssignTerritoryChange
	// AssignMerge: the survivor of a merge had no owner and took the merged lead's.
	AssignMerge
	// AssignUnassigned: a person removed the owner.
	AssignUnassigned
)

var assignNames = [...]string{"unspecified", "round_robin", "territory_owner", "manual",
	"territory_change", "merge", "unassigned"}

// String returns the snake_case name.
func (r AssignmentReason) String() string { return enumName(assignNames[:], int(r), "reason") }

// ScoreTrigger says what caused a LeadScored.
type ScoreTrigger string

// Score triggers.
const (
	TriggerCreated        ScoreTrigger = "created"
	TriggerDetailsUpdated ScoreTrigger = "details_updated"
	TriggerEngagement     ScoreTrigger = "engagement"
	TriggerMerge          ScoreTrigger = "merge"
	// TriggerRescore: a periodic decay sweep or a new scoring model version (Rescore).
	TriggerRescore ScoreTrigger = "rescore"
)

func enumName(names []string, i int, what string) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return what + "(" + strconv.Itoa(i) + ")"
}
