package lead

import (
	"fmt"
	"strings"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

// Machine-readable reasons of FailedPrecondition errors.
const (
	ReasonIllegalTransition = "ILLEGAL_STATUS_TRANSITION"
	ReasonBantIncomplete    = "BANT_INCOMPLETE"
	ReasonNotStalled        = "LEAD_NOT_STALLED"
	ReasonMerged            = "LEAD_MERGED"
	ReasonConverted         = "LEAD_CONVERTED"
	// ReasonNotFound is the Reason of the NotFound error for a lead that does not exist.
	ReasonNotFound = "LEAD_NOT_FOUND"
)

func errNotFound() error {
	return &apperr.Error{Kind: apperr.NotFound, Reason: ReasonNotFound, Message: "lead not found"}
}

// existing checks that l exists and was not merged away.
func existing(l Lead) error {
	if !l.Exists() {
		return errNotFound()
	}
	if l.MergedIntoID != "" {
		return apperr.Precondition(ReasonMerged, "lead %s was merged into %s", l.ID, l.MergedIntoID)
	}
	return nil
}

// writable checks that l exists, was not merged and is not converted (a converted lead lives on
// as contact and account; changes go there).
func writable(l Lead) error {
	if err := existing(l); err != nil {
		return err
	}
	if l.Status == StatusConverted {
		return apperr.Precondition(ReasonConverted, "lead is %s: it can no longer be changed", l.Status)
	}
	if l.Erased {
		return errErased(l)
	}
	return nil
}

// builder accumulates a decision's events, folding each into a working state so that later
// steps of the decision see the effect of earlier ones exactly as Apply will.
type builder struct {
	l      Lead
	events []Event
}

func (b *builder) emit(e Event) {
	b.events = append(b.events, e)
	b.l = Apply(b.l, e)
}

func scoringFacts(l Lead, m scoring.Model) scoring.Facts {
	f := scoring.Facts{JobTitle: l.JobTitle, Company: l.Company, Industry: l.Industry,
		Country: l.Country, Region: l.Region, EmployeeCount: l.EmployeeCount}
	if l.Source.Valid() {
		f.Source = l.Source.String()
	}
	if at := strings.LastIndexByte(l.Email, '@'); at >= 0 {
		f.EmailDomain = strings.ToLower(l.Email[at+1:])
	}
	if !l.AnnualRevenue.IsZero() && l.AnnualRevenue.Currency == m.RevenueCurrency {
		f.AnnualRevenueUnits, f.AnnualRevenueNanos, f.HasAnnualRevenue = l.AnnualRevenue.Units, l.AnnualRevenue.Nanos, true
	}
	return f
}

func territoryFacts(d Details) territory.Facts {
	return territory.Facts{Country: d.Country, Region: d.Region, Industry: d.Industry, EmployeeCount: d.EmployeeCount}
}

// Paths whose change can move a lead to another territory or change its fit score.
var (
	territoryPaths = []string{PathCountry, PathRegion, PathIndustry, PathEmployeeCount}
	fitPaths       = []string{PathJobTitle, PathCompany, PathIndustry, PathEmployeeCount,
		PathAnnualRevenue, PathCountry, PathRegion, PathSource, PathEmail}
)

func anyOf(changed []string, paths []string) bool {
	for _, c := range changed {
		for _, p := range paths {
			if c == p {
				return true
			}
		}
	}
	return false
}

// ruleOwner returns the owner a territory's rule gives a lead, and the reason to record.
func ruleOwner(t territory.Territory, assign Assigner) (string, AssignmentReason, error) {
	switch t.Mode {
	case territory.ModeFixedOwner:
		return t.OwnerID, AssignTerritoryOwner, nil
	case territory.ModeRoundRobin:
		if assign == nil {
			return "", AssignUnspecified, nil
		}
		rep, err := assign(t)
		if err != nil {
			return "", AssignUnspecified, fmt.Errorf("pick round-robin rep of territory %s: %w", t.ID, err)
		}
		return rep, AssignRoundRobin, nil
	}
	return "", AssignUnspecified, nil
}

// retarget recomputes the territory; when it changes, the new territory's rule reassigns the
// lead unless a person chose its owner.
func (b *builder) retarget(p Policy, assign Assigner, now time.Time) error {
	t, ok := territory.Match(p.Territories, territoryFacts(b.l.Details))
	newID := ""
	if ok {
		newID = t.ID
	}
	if newID == b.l.TerritoryID {
		return nil
	}
	b.emit(LeadTerritoryChanged{PreviousTerritoryID: b.l.TerritoryID, TerritoryID: newID, At: now})
	if !ok || b.l.AssignmentReason == AssignManual {
		return nil
	}
	owner, _, err := ruleOwner(t, assign)
	if err != nil {
		return err
	}
	if owner != "" && owner != b.l.OwnerID {
		b.emit(LeadAssigned{PreviousOwnerID: b.l.OwnerID, OwnerID: owner, Reason: AssignTerritoryChange,
			TerritoryID: newID, At: now})
	}
	return nil
}

// rescore records a new score when anything but the time changed.
func (b *builder) rescore(m scoring.Model, trigger ScoreTrigger, now time.Time) {
	s := m.Score(scoringFacts(b.l, m), b.l.Engagement, now)
	if !s.SameAs(b.l.Score) {
		b.emit(LeadScored{Score: s, Trigger: trigger, At: now})
	}
}

// autoQualify moves a NEW lead whose total reached the MQL threshold to MQL, on the product
// path when product usage got it there.
func (b *builder) autoQualify(m scoring.Model, product bool, now time.Time) {
	if b.l.Status != StatusNew || !m.QualifiesForMQL(b.l.Score.Total) {
		return
	}
	path := PathScore
	format := "total score %d reached the MQL threshold %d (scoring model v%d)"
	if product {
		path = PathProduct
		format = "product usage brought the total score to %d, reaching the MQL threshold %d (scoring model v%d)"
	}
	b.emit(b.statusChange(StatusMQL, now, func(e *LeadStatusChanged) {
		e.QualificationPath = path
		e.Automatic = true
		e.Reason = fmt.Sprintf(format, b.l.Score.Total, m.MQLThreshold, b.l.Score.ModelVersion)
	}))
}

// statusChange builds a LeadStatusChanged from the working state.
func (b *builder) statusChange(to Status, now time.Time, fill func(*LeadStatusChanged)) LeadStatusChanged {
	e := LeadStatusChanged{From: b.l.Status, To: to, TimeInPrevious: max(0, now.Sub(b.l.StatusChangedAt)),
		Remarket: b.l.Remarket, Source: b.l.Source, CampaignID: b.l.CampaignID, OwnerID: b.l.OwnerID,
		TerritoryID: b.l.TerritoryID, At: now}
	if fill != nil {
		fill(&e)
	}
	return e
}
