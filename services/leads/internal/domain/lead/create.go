package lead

import (
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

// NewLead is the CreateLead command.
type NewLead struct {
	// ID is chosen by the app (a UUIDv7); [A-Za-z0-9_-]{1,64}.
	ID      string
	Details Details
	Tags    []string
	// OwnerID, when set, is the owner a person chose (AssignManual); otherwise the matching
	// territory's rule picks one.
	OwnerID string
}

// Create decides CreateLead. It validates every field (one violation per bad field), computes
// the territory, the owner (explicit, the territory's fixed owner, or the round-robin rep from
// assign), and the initial score, and returns LeadCreated — followed by an automatic
// LeadStatusChanged to MQL when the initial total reaches the model's MQL threshold.
//
// Uniqueness of email and phone is not decided here: it needs every lead of the tenant, so the
// app claims dedupe.Keys in the write path before appending.
func Create(l Lead, cmd NewLead, p Policy, assign Assigner, now time.Time) ([]Event, error) {
	if l.Exists() {
		return nil, apperr.Exists("lead already exists", l.ID)
	}
	var v apperr.Violations
	if !ValidID(cmd.ID) {
		v.Add("id", "must match [A-Za-z0-9_-]{1,64}")
	}
	d := normalizeDetails(cmd.Details)
	validateDetails(d, p, func(string) bool { return true }, &v)
	tags := normalizeTags(cmd.Tags, "tags", &v)
	if len(tags) > MaxTags {
		v.Add("tags", "at most %d tags", MaxTags)
	}
	validateOwner("owner_id", cmd.OwnerID, &v)
	if err := v.Err("invalid lead"); err != nil {
		return nil, err
	}

	n := Lead{ID: cmd.ID, Details: d, Tags: tags, Status: StatusNew, StatusChangedAt: now,
		CreatedAt: now, UpdatedAt: now}
	t, ok := territory.Match(p.Territories, territoryFacts(d))
	if ok {
		n.TerritoryID = t.ID
	}
	switch {
	case cmd.OwnerID != "":
		n.OwnerID, n.AssignmentReason = cmd.OwnerID, AssignManual
	case ok:
		owner, reason, err := ruleOwner(t, assign)
		if err != nil {
			return nil, err
		}
		if owner != "" {
			n.OwnerID, n.AssignmentReason = owner, reason
		}
	}
	n.Score = p.Model.Score(scoringFacts(n, p.Model), n.Engagement, now)

	var b builder
	b.emit(LeadCreated{Lead: n, At: now})
	b.autoQualify(p.Model, false, now)
	return b.events, nil
}
