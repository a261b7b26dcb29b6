package lead

import (
	"slices"
)

// Apply folds one event into the state. It is pure: l is not modified (maps and slices that
// change are copied), and the result depends only on l and e, never on the tenant's current
// configuration — events carry every computed value (scores, engagement totals, owners).
func Apply(l Lead, e Event) Lead {
	if c, ok := e.(LeadCreated); ok {
		n := c.Lead.clone()
		n.Version = l.Version + 1
		return n
	}
	l = l.clone()
	l.Version++
	switch e.(type) {
	case LeadScored:
	case LeadOpportunityWon:
		// A reaction to another service's event, possibly dated at the win (backfill): it must
		// not move updated_at back behind a later change.
		if e.OccurredAt().After(l.UpdatedAt) {
			l.UpdatedAt = e.OccurredAt()
		}
	default:
		l.UpdatedAt = e.OccurredAt()
	}
	switch e := e.(type) {
	case LeadDetailsUpdated:
		l.Details = applyLeaves(l.Details, e.After, e.Changed)
	case LeadStatusChanged:
		l.Status = e.To
		l.StatusChangedAt = e.At
		l.Remarket = e.Remarket
		if e.To == StatusMQL {
			l.QualificationPath = e.QualificationPath
		}
		l.DisqualifyReason = DisqualifyUnspecified
		if e.To == StatusDisqualified {
			l.DisqualifyReason = e.DisqualifyReason
		}
		if e.To == StatusConverted {
			l.Converted = e.Converted
		}
	case BantUpdated:
		l.Bant = e.Bant
	case LeadAssigned:
		l.OwnerID = e.OwnerID
		l.AssignmentReason = e.Reason
	case LeadTerritoryChanged:
		l.TerritoryID = e.TerritoryID
	case LeadTagsAdded:
		l.Tags = addTags(l.Tags, e.Tags)
	case LeadTagsRemoved:
		l.Tags = slices.DeleteFunc(l.Tags, func(t string) bool { return slices.Contains(e.Tags, t) })
	case EngagementRecorded:
		l.Engagement = e.Engagement
		if e.SignalAt.After(l.LastEngagedAt) {
			l.LastEngagedAt = e.SignalAt
		}
	case LeadScored:
		l.Score = e.Score
	case LeadMerged:
		l.Details = applyLeaves(l.Details, e.Values, e.Gained)
		l.Tags = addTags(l.Tags, e.TagsGained)
		l.Engagement = e.Engagement
		l.MergedFromIDs = append(l.MergedFromIDs, e.MergedLeadID)
	case LeadMergedInto:
		l.MergedIntoID = e.SurvivorLeadID
	case LeadConverted:
		l.Conversion = e.Conversion
	case LeadErased:
		l.Details = l.Details.erased()
		l.Bant = l.Bant.erased()
		l.Erased = true
	case LeadOpportunityWon:
		if !slices.Contains(l.WonOpportunityIDs, e.OpportunityID) {
			l.WonOpportunityIDs = append(l.WonOpportunityIDs, e.OpportunityID)
		}
		if l.WonAt.IsZero() || e.WonAt.Before(l.WonAt) {
			l.WonAt = e.WonAt
		}
	}
	return l
}

// ApplyAll folds events in order.
func ApplyAll(l Lead, events ...Event) Lead {
	for _, e := range events {
		l = Apply(l, e)
	}
	return l
}

// addTags returns the sorted union of a (already a sorted set, owned by the caller) and b.
func addTags(a, b []string) []string {
	for _, t := range b {
		if i, found := slices.BinarySearch(a, t); !found {
			a = slices.Insert(a, i, t)
		}
	}
	return a
}
