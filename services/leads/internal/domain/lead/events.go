package lead

import (
	"time"

	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

// Event is a fact about one lead. The set is closed (the unexported method): the app's codec
// maps each type to the crm.leads.v1 message of the same name.
type Event interface {
	// EventType is the event's name and the last token of its subject, e.g. "LeadCreated".
	EventType() string
	// OccurredAt is when the fact happened (the decision's now).
	OccurredAt() time.Time
	isLeadEvent()
}

// LeadCreated is the first event of every lead. Lead is the lead as created — details, tags,
// territory, owner (with AssignmentReason), status NEW, score — so a consumer needs nothing
// else; an automatic MQL at creation follows as a separate LeadStatusChanged in the same batch.
type LeadCreated struct {
	Lead Lead
	At   time.Time
}

// LeadDetailsUpdated records changed descriptive fields. Changed lists the leaf paths that
// changed, in canonical order ("email", "utm.source", "custom_fields.plan", …; see Paths);
// Before and After hold the old and new values of exactly those paths (every other field is
// zero). A custom field that was cleared is listed in Changed and absent from After.
type LeadDetailsUpdated struct {
	Changed []string
	Before  Details
	After   Details
	At      time.Time
}

// LeadStatusChanged is every lifecycle transition.
type LeadStatusChanged struct {
	From, To Status
	// TimeInPrevious is how long the lead was in From (funnel velocity).
	TimeInPrevious time.Duration
	// QualificationPath is set when To is MQL.
	QualificationPath QualificationPath
	// Automatic is true when the system moved the lead (score threshold, re-engagement, stall
	// sweep), false when a person did.
	Automatic bool
	// Reason says why, for humans: the user's note, or for automatic moves the cause (e.g.
	// "total score 72 reached the MQL threshold 60 (scoring model v3)").
	Reason string
	// DisqualifyReason is set when To is DISQUALIFIED.
	DisqualifyReason DisqualifyReason
	// Remarket is the lead's remarket flag after the transition (true on RECYCLED → NEW by
	// re-engagement and on the later steps of that run).
	Remarket bool
	// Source, CampaignID, OwnerID and TerritoryID are the lead's at the time of the transition,
	// so funnel metrics can group without a lookup.
	Source      Source
	CampaignID  string
	OwnerID     string
	TerritoryID string
	// Converted is set when To is CONVERTED.
	Converted ConvertedRecords
	At        time.Time
}

// BantUpdated carries the new BANT record (the whole record; compare with the previous state
// for a diff).
type BantUpdated struct {
	Bant Bant
	At   time.Time
}

// LeadAssigned records a change of owner.
type LeadAssigned struct {
	PreviousOwnerID string
	// OwnerID is "" when the lead was unassigned.
	OwnerID string
	Reason  AssignmentReason
	// TerritoryID is the lead's territory at the time (context for rule assignments).
	TerritoryID string
	// Note is the user's note on a manual assignment.
	Note string
	At   time.Time
}

// LeadTerritoryChanged follows a change of the fields territories match on (country, region,
// industry, employee count). TerritoryID is "" when no territory matches any more.
type LeadTerritoryChanged struct {
	PreviousTerritoryID string
	TerritoryID         string
	At                  time.Time
}

// LeadTagsAdded lists the tags that were not there before, sorted.
type LeadTagsAdded struct {
	Tags []string
	At   time.Time
}

// LeadTagsRemoved lists the tags that were there, sorted.
type LeadTagsRemoved struct {
	Tags []string
	At   time.Time
}

// EngagementRecorded is a behaviour signal. Points are the model's points for Signal at the
// time; Engagement is the lead's new decayed running total (see scoring.Engagement), carried so
// that folding never depends on the scoring model in force.
type EngagementRecorded struct {
	Signal scoring.Signal
	Points int64
	// SignalAt is when the behaviour happened (may precede At for late signals).
	SignalAt time.Time
	// Detail is free text, e.g. the page visited or the activity id.
	Detail string
	// CampaignID is the campaign whose response produced the signal, if any.
	CampaignID string
	Engagement scoring.Engagement
	At         time.Time
}

// LeadScored is a new score (only recorded when fit, engagement, total, temperature or model
// version changed).
type LeadScored struct {
	Score   scoring.Score
	Trigger ScoreTrigger
	At      time.Time
}

// LeadMerged is recorded on the survivor of a merge. Gained lists the leaf paths (as in
// LeadDetailsUpdated) the survivor took from the merged lead because it had no value; Values
// holds exactly those values. TagsGained are the merged lead's tags the survivor lacked.
// EngagementGained is the merged lead's decayed engagement at the merge; Engagement is the
// survivor's new running total.
type LeadMerged struct {
	MergedLeadID     string
	Gained           []string
	Values           Details
	TagsGained       []string
	EngagementGained float64
	Engagement       scoring.Engagement
	At               time.Time
}

// LeadMergedInto is recorded on the merged lead after its LeadStatusChanged to DISQUALIFIED
// (duplicate); the lead accepts no further commands.
type LeadMergedInto struct {
	SurvivorLeadID string
	At             time.Time
}

// EventType implements Event.
func (LeadCreated) EventType() string          { return "LeadCreated" }
func (LeadDetailsUpdated) EventType() string   { return "LeadDetailsUpdated" }
func (LeadStatusChanged) EventType() string    { return "LeadStatusChanged" }
func (BantUpdated) EventType() string          { return "BantUpdated" }
func (LeadAssigned) EventType() string         { return "LeadAssigned" }
func (LeadTerritoryChanged) EventType() string { return "LeadTerritoryChanged" }
func (LeadTagsAdded) EventType() string        { return "LeadTagsAdded" }
func (LeadTagsRemoved) EventType() string      { return "LeadTagsRemoved" }
func (EngagementRecorded) EventType() string   { return "EngagementRecorded" }
func (LeadScored) EventType() string           { return "LeadScored" }
func (LeadMerged) EventType() string           { return "LeadMerged" }
func (LeadMergedInto) EventType() string       { return "LeadMergedInto" }

// OccurredAt implements Event.
func (e LeadCreated) OccurredAt() time.Time          { return e.At }
func (e LeadDetailsUpdated) OccurredAt() time.Time   { return e.At }
func (e LeadStatusChanged) OccurredAt() time.Time    { return e.At }
func (e BantUpdated) OccurredAt() time.Time          { return e.At }
func (e LeadAssigned) OccurredAt() time.Time         { return e.At }
func (e LeadTerritoryChanged) OccurredAt() time.Time { return e.At }
func (e LeadTagsAdded) OccurredAt() time.Time        { return e.At }
func (e LeadTagsRemoved) OccurredAt() time.Time      { return e.At }
func (e EngagementRecorded) OccurredAt() time.Time   { return e.At }
func (e LeadScored) OccurredAt() time.Time           { return e.At }
func (e LeadMerged) OccurredAt() time.Time           { return e.At }
func (e LeadMergedInto) OccurredAt() time.Time       { return e.At }

func (LeadCreated) isLeadEvent()          {}
func (LeadDetailsUpdated) isLeadEvent()   {}
func (LeadStatusChanged) isLeadEvent()    {}
func (BantUpdated) isLeadEvent()          {}
func (LeadAssigned) isLeadEvent()         {}
func (LeadTerritoryChanged) isLeadEvent() {}
func (LeadTagsAdded) isLeadEvent()        {}
func (LeadTagsRemoved) isLeadEvent()      {}
func (EngagementRecorded) isLeadEvent()   {}
func (LeadScored) isLeadEvent()           {}
func (LeadMerged) isLeadEvent()           {}
func (LeadMergedInto) isLeadEvent()       {}
