package lead

import (
	"fmt"
	"slices"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
)

// MergeResult holds the events of both sides of a merge.
type MergeResult struct {
	// Survivor's events: LeadMerged, then what follows from the gained fields (territory,
	// owner, score, automatic MQL).
	Survivor []Event
	// Merged's events: LeadStatusChanged to DISQUALIFIED (duplicate) unless it was already
	// disqualified, then LeadMergedInto.
	Merged []Event
}

// Merge decides MergeLeads(survivor, merged). The survivor gains every detail field it has no
// value for (custom fields included), the merged lead's tags and its decayed engagement, and
// its owner when it had none; the merged lead ends DISQUALIFIED (duplicate) with a link to the
// survivor. A lead cannot be merged into itself (InvalidArgument), and neither side may be
// converted or already merged into another lead (FailedPrecondition). BANT is not merged.
//
// The two sides are two aggregates, appended separately: the app appends Merged first (which
// closes the merged lead to further merges), then Survivor. Each side is idempotent so an
// interrupted merge can be completed by running Merge again: a merged lead already linked to
// this survivor yields no Merged events, and a survivor that already lists the merged lead in
// MergedFromIDs yields no Survivor events.
func Merge(survivor, merged Lead, p Policy, assign Assigner, now time.Time) (MergeResult, error) {
	if !survivor.Exists() || !merged.Exists() {
		return MergeResult{}, errNotFound()
	}
	if survivor.ID == merged.ID {
		return MergeResult{}, apperr.InvalidFields("invalid merge",
			apperr.FieldViolation{Field: "merged_lead_id", Description: "a lead cannot be merged into itself"})
	}
	if err := writable(survivor); err != nil {
		return MergeResult{}, err
	}
	if merged.Erased {
		return MergeResult{}, errErased(merged)
	}
	if merged.Status == StatusConverted {
		return MergeResult{}, apperr.Precondition(ReasonConverted, "lead %s is %s: it cannot be merged", merged.ID, merged.Status)
	}
	if merged.MergedIntoID != "" && merged.MergedIntoID != survivor.ID {
		return MergeResult{}, apperr.Precondition(ReasonMerged, "lead %s was merged into %s", merged.ID, merged.MergedIntoID)
	}

	var res MergeResult
	if merged.MergedIntoID == "" {
		mb := builder{l: merged}
		if merged.Status != StatusDisqualified {
			mb.emit(mb.statusChange(StatusDisqualified, now, func(e *LeadStatusChanged) {
				e.DisqualifyReason = DisqualifyDuplicate
				e.Reason = fmt.Sprintf("merged into %s", survivor.ID)
			}))
		}
		mb.emit(LeadMergedInto{SurvivorLeadID: survivor.ID, At: now})
		res.Merged = mb.events
	}
	if slices.Contains(survivor.MergedFromIDs, merged.ID) {
		return res, nil
	}

	var gained []string
	for _, path := range append(Paths(), customLeaves(merged.Details)...) {
		if leafEmpty(survivor.Details, path) && !leafEmpty(merged.Details, path) {
			gained = append(gained, path)
		}
	}
	var tags []string
	for _, t := range merged.Tags {
		if _, found := slices.BinarySearch(survivor.Tags, t); !found {
			tags = append(tags, t)
		}
	}
	sb := builder{l: survivor}
	sb.emit(LeadMerged{MergedLeadID: merged.ID, Gained: gained, Values: pick(merged.Details, gained),
		TagsGained: tags, EngagementGained: merged.Engagement.At(now, p.Model.HalfLife),
		Engagement: survivor.Engagement.Plus(merged.Engagement, p.Model.HalfLife), At: now})
	if anyOf(gained, territoryPaths) {
		if err := sb.retarget(p, assign, now); err != nil {
			return MergeResult{}, err
		}
	}
	// The territory's rule comes first; the merged lead's owner only fills a gap.
	if sb.l.OwnerID == "" && merged.OwnerID != "" {
		sb.emit(LeadAssigned{OwnerID: merged.OwnerID, Reason: AssignMerge, TerritoryID: sb.l.TerritoryID,
			Note: fmt.Sprintf("owner of merged lead %s", merged.ID), At: now})
	}
	// Merged engagement changes the score even when no fit field was gained.
	sb.rescore(p.Model, TriggerMerge, now)
	sb.autoQualify(p.Model, false, now)
	res.Survivor = sb.events
	return res, nil
}
