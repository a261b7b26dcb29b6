// Package lead is the lead aggregate: its state (Lead), its events, the fold (Apply) and the
// decisions — pure functions that take the current state, a command, the tenant's Policy and
// the time, and return the events to append or an apperr error. Nothing is appended for a
// rejected command.
//
// Personal data. These fields identify a person and are marked (crm.events.v1.pii) in the proto
// so they can be crypto-shredded (DESIGN §3): FirstName, LastName, Email, Phone, City, and the
// free text users type about the person — SourceDetail, the BANT notes (Authority, Need), the
// custom fields' string values, a manual assignment's note. Country and Region are kept in
// clear: they are coarse, and territories and analytics group by them.
package lead

import (
	"regexp"
	"slices"
	"time"

	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

// Money is an exact amount in a currency: Units + Nanos/10⁹, like crm.common.v1.Money (and
// google.type.Money). It is never a float; Units and Nanos have the same sign. The zero Money
// (no currency) means "unknown".
type Money struct {
	// Currency is an ISO 4217 code, e.g. "EUR".
	Currency string
	Units    int64
	// Nanos is -999,999,999…999,999,999.
	Nanos int32
}

// IsZero reports whether m is unknown (no currency and no amount).
func (m Money) IsZero() bool { return m == Money{} }

// Negative reports whether m is below zero.
func (m Money) Negative() bool { return m.Units < 0 || m.Nanos < 0 }

// valid reports whether m is a well-formed amount: known currency, nanos in range and of the
// same sign as units.
func (m Money) valid() bool {
	if !scoring.ValidCurrency(m.Currency) || m.Nanos <= -1e9 || m.Nanos >= 1e9 {
		return false
	}
	return !(m.Units > 0 && m.Nanos < 0) && !(m.Units < 0 && m.Nanos > 0)
}

// UTM holds the UTM parameters of the lead's first touch.
type UTM struct {
	Source, Medium, Campaign, Term, Content string
}

// Details are the descriptive fields of a lead: what CreateLead takes and UpdateDetails changes
// by field mask. FirstName, LastName, Email, Phone, City, SourceDetail and the custom string
// values are personal data.
type Details struct {
	FirstName string
	LastName  string
	// Email is kept as entered (trimmed); dedupe.NormalizeEmail gives the matching form.
	Email string
	// Phone is kept as entered (trimmed); dedupe.NormalizePhone gives the matching form.
	Phone    string
	Company  string
	JobTitle string
	Website  string
	// Country is an ISO 3166-1 alpha-2 code, upper case (so territories match reliably).
	Country string
	// Region is a state or province, free text.
	Region   string
	City     string
	Industry string
	// EmployeeCount is the company size; 0 means unknown.
	EmployeeCount int64
	// AnnualRevenue of the company; the zero Money means unknown.
	AnnualRevenue Money
	Source        Source
	// SourceDetail is free text about the source (e.g. which form or event).
	SourceDetail string
	UTM          UTM
	// CampaignID is the originating campaign (the campaign service's id).
	CampaignID string
	// EmailOptOut is set when the person asked not to receive marketing email — by hand, by
	// import, or by an unsubscribe in any campaign (the leads service reacts to the campaign
	// service's CampaignMemberResponded). Campaigns suppress such leads.
	EmailOptOut bool
	// DoNotContact is set when the person asked not to be contacted at all; campaigns suppress
	// such leads too.
	DoNotContact bool
	// CustomFields are values of the tenant's custom fields, by name.
	CustomFields map[string]customfield.Value
}

func (d Details) clone() Details {
	d.CustomFields = cloneMap(d.CustomFields)
	return d
}

// Bant is the sales qualification record. Each part has a value and a Confirmed flag: a value
// may be noted long before it is confirmed, and only confirmed parts count for the SQL gate
// (Settings.Require*).
type Bant struct {
	// Budget the prospect has, when known.
	Budget          Money
	BudgetConfirmed bool
	// Authority says who decides and whether the contact is (or reaches) the decision maker.
	Authority          string
	AuthorityConfirmed bool
	// Need is the problem to solve.
	Need          string
	NeedConfirmed bool
	// Timeline is when they intend to buy (UTC).
	Timeline          time.Time
	TimelineConfirmed bool
}

// Equal reports whether b and o hold the same record.
func (b Bant) Equal(o Bant) bool {
	return b.Budget == o.Budget && b.BudgetConfirmed == o.BudgetConfirmed &&
		b.Authority == o.Authority && b.AuthorityConfirmed == o.AuthorityConfirmed &&
		b.Need == o.Need && b.NeedConfirmed == o.NeedConfirmed &&
		b.Timeline.Equal(o.Timeline) && b.TimelineConfirmed == o.TimelineConfirmed
}

// ConvertedRecords name what a conversion created or linked.
type ConvertedRecords struct {
	ContactID     string
	AccountID     string
	OpportunityID string
	ConvertedAt   time.Time
}

// Lead is the state of one lead, folded from its events. The zero Lead means the lead does not
// exist. Treat it as a value: Apply and the decisions never modify the maps and slices of a
// Lead they are given.
type Lead struct {
	ID string
	// Version is the number of events folded: 1 after LeadCreated.
	Version uint64
	Details
	// Tags are a set: lower-case, sorted, without duplicates.
	Tags []string
	// OwnerID is the user who owns the lead; "" when unassigned.
	OwnerID string
	// AssignmentReason says how the current owner was chosen.
	AssignmentReason AssignmentReason
	// TerritoryID is the matching territory; "" when none matched.
	TerritoryID string
	Status      Status
	// StatusChangedAt is when the lead entered Status (time-in-status, stall detection).
	StatusChangedAt time.Time
	// QualificationPath is how the lead last reached MQL.
	QualificationPath QualificationPath
	// DisqualifyReason is set while the lead is DISQUALIFIED.
	DisqualifyReason DisqualifyReason
	// Remarket is true for a lead that came back from RECYCLED by engaging again; it stays set
	// through the rest of that funnel run so analytics can tell remarketed MQLs apart.
	Remarket bool
	// Score is the latest score.
	Score scoring.Score
	// Engagement is the decayed running engagement total the engagement score comes from.
	Engagement scoring.Engagement
	// LastEngagedAt is when the latest engagement signal happened.
	LastEngagedAt time.Time
	Bant          Bant
	CreatedAt     time.Time
	// UpdatedAt is the time of the latest event other than LeadScored (a periodic decay rescore
	// does not make a lead "recently updated").
	UpdatedAt time.Time
	// Erased is set once the person was erased (LeadErased): the personal fields hold
	// ErasedMarker and the lead takes no more changes from users.
	Erased bool
	// MergedIntoID is set on a lead merged into another: the survivor.
	MergedIntoID string
	// MergedFromIDs are the leads merged into this one.
	MergedFromIDs []string
	// Converted is set once converted.
	Converted ConvertedRecords
	// Conversion is what LeadConverted recorded (who converted, whether the account and contact
	// were created or linked); a repeated ConvertLead answers with it.
	Conversion Conversion
	// WonOpportunityIDs are the opportunities from this lead that were closed won
	// (LeadOpportunityWon), in the order their wins were recorded, each once.
	WonOpportunityIDs []string `json:",omitempty"`
	// WonAt is the earliest win among them: when the lead became a customer (the funnel's won
	// step); zero while none was won.
	WonAt time.Time `json:",omitzero"`
}

// Exists reports whether the lead has been created.
func (l Lead) Exists() bool { return l.Version > 0 }

func (l Lead) clone() Lead {
	l.Details = l.Details.clone()
	l.Tags = slices.Clone(l.Tags)
	l.MergedFromIDs = slices.Clone(l.MergedFromIDs)
	l.WonOpportunityIDs = slices.Clone(l.WonOpportunityIDs)
	return l
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

var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidID reports whether id can be a lead, campaign, contact, account or opportunity id:
// [A-Za-z0-9_-]{1,64}, the alphabet of NATS subject tokens.
func ValidID(id string) bool { return idRE.MatchString(id) }
