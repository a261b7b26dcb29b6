package lead

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
)

// SetBant decides SetBant: the whole BANT record is replaced by b. A confirmed part needs a
// value (a budget with a currency, an authority, a need, a timeline); amounts cannot be
// negative. Setting the record it already has yields no events.
func SetBant(l Lead, b Bant, now time.Time) ([]Event, error) {
	if err := writable(l); err != nil {
		return nil, err
	}
	b.Authority, b.Need = strings.TrimSpace(b.Authority), strings.TrimSpace(b.Need)
	b.Budget.Currency = strings.ToUpper(strings.TrimSpace(b.Budget.Currency))
	if !b.Timeline.IsZero() {
		b.Timeline = b.Timeline.UTC()
	}
	var v apperr.Violations
	switch {
	case b.Budget.IsZero():
		if b.BudgetConfirmed {
			v.Add("bant.budget", "a confirmed budget needs an amount and currency")
		}
	case !b.Budget.valid():
		v.Add("bant.budget", "must be an amount with an ISO 4217 currency")
	case b.Budget.Negative():
		v.Add("bant.budget", "must not be negative")
	}
	for _, part := range []struct {
		path, value string
		confirmed   bool
	}{{"bant.authority", b.Authority, b.AuthorityConfirmed}, {"bant.need", b.Need, b.NeedConfirmed}} {
		if msg := checkText(part.value, MaxNoteLen); msg != "" {
			v.Add(part.path, "%s", msg)
		} else if part.confirmed && part.value == "" {
			v.Add(part.path, "a confirmed part needs a value")
		}
	}
	if b.TimelineConfirmed && b.Timeline.IsZero() {
		v.Add("bant.timeline", "a confirmed timeline needs a date")
	}
	if err := v.Err("invalid BANT"); err != nil {
		return nil, err
	}
	if b.Equal(l.Bant) {
		return nil, nil
	}
	return []Event{BantUpdated{Bant: b, At: now}}, nil
}

// Assignment is the AssignLead command: a person chooses the owner.
type Assignment struct {
	// OwnerID is the new owner; "" unassigns the lead.
	OwnerID string
	Note    string
}

// Assign decides a manual (re)assignment. Assigning the current owner yields no events. A
// manually chosen owner is kept when the lead later changes territory.
func Assign(l Lead, cmd Assignment, now time.Time) ([]Event, error) {
	if err := writable(l); err != nil {
		return nil, err
	}
	cmd.OwnerID, cmd.Note = strings.TrimSpace(cmd.OwnerID), strings.TrimSpace(cmd.Note)
	var v apperr.Violations
	validateOwner("owner_id", cmd.OwnerID, &v)
	if msg := checkText(cmd.Note, MaxNoteLen); msg != "" {
		v.Add("note", "%s", msg)
	}
	if err := v.Err("invalid assignment"); err != nil {
		return nil, err
	}
	if cmd.OwnerID == l.OwnerID {
		return nil, nil
	}
	reason := AssignManual
	if cmd.OwnerID == "" {
		reason = AssignUnassigned
	}
	return []Event{LeadAssigned{PreviousOwnerID: l.OwnerID, OwnerID: cmd.OwnerID, Reason: reason,
		TerritoryID: l.TerritoryID, Note: cmd.Note, At: now}}, nil
}

// AddTags decides AddLeadTags: tags are normalised (NormalizeTag); the event lists only those
// the lead did not have (none → no events).
func AddTags(l Lead, tags []string, now time.Time) ([]Event, error) {
	if err := writable(l); err != nil {
		return nil, err
	}
	var v apperr.Violations
	norm := normalizeTags(tags, "tags", &v)
	if len(tags) == 0 {
		v.Add("tags", "name at least one tag")
	}
	if err := v.Err("invalid tags"); err != nil {
		return nil, err
	}
	var added []string
	for _, t := range norm {
		if _, found := slices.BinarySearch(l.Tags, t); !found {
			added = append(added, t)
		}
	}
	if len(l.Tags)+len(added) > MaxTags {
		return nil, apperr.InvalidFields("invalid tags", apperr.FieldViolation{Field: "tags",
			Description: fmt.Sprintf("a lead has at most %d tags", MaxTags)})
	}
	if len(added) == 0 {
		return nil, nil
	}
	return []Event{LeadTagsAdded{Tags: added, At: now}}, nil
}

// RemoveTags decides RemoveLeadTags; the event lists only tags the lead had.
func RemoveTags(l Lead, tags []string, now time.Time) ([]Event, error) {
	if err := writable(l); err != nil {
		return nil, err
	}
	var v apperr.Violations
	norm := normalizeTags(tags, "tags", &v)
	if len(tags) == 0 {
		v.Add("tags", "name at least one tag")
	}
	if err := v.Err("invalid tags"); err != nil {
		return nil, err
	}
	var removed []string
	for _, t := range norm {
		if _, found := slices.BinarySearch(l.Tags, t); found {
			removed = append(removed, t)
		}
	}
	if len(removed) == 0 {
		return nil, nil
	}
	return []Event{LeadTagsRemoved{Tags: removed, At: now}}, nil
}

// MaxSignalSkew is how far in the future a signal's time may be (clock skew between systems).
const MaxSignalSkew = 5 * time.Minute

// Signal is the RecordEngagement command (also built by the consumer of campaign events).
type Signal struct {
	Signal scoring.Signal
	// OccurredAt is when the behaviour happened; required.
	OccurredAt time.Time
	Detail     string
	CampaignID string
}

// RecordEngagement decides RecordEngagement: it adds the model's points for the signal to the
// decayed running total (EngagementRecorded), brings a RECYCLED lead that engaged with positive
// points back to NEW as a remarket lead, rescores, and qualifies a NEW lead that reached the
// MQL threshold (on the product path when the signal is product usage).
//
// Redelivered signals are not detected here — the state keeps no signal ids; the caller passes
// the source event id as the command's idempotency key.
func RecordEngagement(l Lead, cmd Signal, p Policy, now time.Time) ([]Event, error) {
	if err := writable(l); err != nil {
		return nil, err
	}
	var v apperr.Violations
	if !cmd.Signal.Valid() {
		v.Add("signal", "unknown signal %d", int(cmd.Signal))
	}
	switch {
	case cmd.OccurredAt.IsZero():
		v.Add("occurred_at", "is required")
	case cmd.OccurredAt.After(now.Add(MaxSignalSkew)):
		v.Add("occurred_at", "must not be in the future")
	}
	if msg := checkText(cmd.Detail, MaxSourceDetailLen); msg != "" {
		v.Add("detail", "%s", msg)
	}
	if cmd.CampaignID != "" && !ValidID(cmd.CampaignID) {
		v.Add("campaign_id", "must match [A-Za-z0-9_-]{1,64}")
	}
	if err := v.Err("invalid engagement"); err != nil {
		return nil, err
	}
	m := p.Model
	points := m.Points(cmd.Signal)
	b := builder{l: l}
	b.emit(EngagementRecorded{Signal: cmd.Signal, Points: points, SignalAt: cmd.OccurredAt,
		Detail: strings.TrimSpace(cmd.Detail), CampaignID: cmd.CampaignID,
		Engagement: l.Engagement.Add(float64(points), cmd.OccurredAt, m.HalfLife), At: now})
	if l.Status == StatusRecycled && points > 0 {
		b.emit(b.statusChange(StatusNew, now, func(e *LeadStatusChanged) {
			e.Automatic, e.Remarket = true, true
			e.Reason = fmt.Sprintf("re-engaged: %s", cmd.Signal)
		}))
	}
	b.rescore(m, TriggerEngagement, now)
	b.autoQualify(m, cmd.Signal == scoring.SignalProductUsage, now)
	return b.events, nil
}

// Rescore decides a rescore under the current model at now: for a periodic decay sweep and
// after a new scoring model version. It records LeadScored only when something changed and
// qualifies a NEW lead that reached the threshold. Converted and merged leads are left alone
// (no events, no error), so a sweep can run over every lead.
func Rescore(l Lead, p Policy, now time.Time) ([]Event, error) {
	if !l.Exists() {
		return nil, errNotFound()
	}
	if l.MergedIntoID != "" || l.Status == StatusConverted {
		return nil, nil
	}
	b := builder{l: l}
	b.rescore(p.Model, TriggerRescore, now)
	b.autoQualify(p.Model, false, now)
	return b.events, nil
}
