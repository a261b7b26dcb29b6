package lead

import (
	"fmt"
	"strings"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
)

// StatusChange is the ChangeLeadStatus command.
//
// Legal transitions:
//
//	NEW, RECYCLED            → MARKETING_QUALIFIED  (Path manual or product; automatic score
//	                                                 qualification happens inside other decisions)
//	MARKETING_QUALIFIED      → SALES_ACCEPTED
//	SALES_ACCEPTED           → SALES_QUALIFIED      (the BANT parts Settings require are confirmed)
//	SALES_QUALIFIED          → CONVERTED            (only through Convert; SAL too when Settings.ConvertSalesAccepted)
//	any open status          → DISQUALIFIED         (with a DisqualifyReason)
//	DISQUALIFIED             → RECYCLED
//	NEW, MQL, SAL, SQL       → RECYCLED             (when stalled: no status change for StallDays)
//	RECYCLED                 → NEW                  (only automatically, when the lead engages again)
//
// Anything else is FailedPrecondition ILLEGAL_STATUS_TRANSITION naming the current status.
type StatusChange struct {
	To Status
	// Path is how the lead reaches MQL: PathManual (the default) or PathProduct (PQL).
	Path QualificationPath
	// DisqualifyReason is required when To is DISQUALIFIED.
	DisqualifyReason DisqualifyReason
	// Reason is the person's note, recorded in the event.
	Reason string
	// Automatic marks a move made by a system job (e.g. the stall sweeper recycling leads);
	// never set it from a user's request.
	Automatic bool
}

// ChangeStatus decides a lifecycle transition (see StatusChange for the legal ones).
func ChangeStatus(l Lead, cmd StatusChange, p Policy, now time.Time) ([]Event, error) {
	if err := existing(l); err != nil {
		return nil, err
	}
	var v apperr.Violations
	if !cmd.To.Valid() {
		v.Add("to", "unknown status %d", int(cmd.To))
	}
	if cmd.To == StatusConverted {
		v.Add("to", "leads are converted by ConvertLead, which names the records created")
	}
	if cmd.To == StatusMQL && cmd.Path != PathUnspecified && cmd.Path != PathManual && cmd.Path != PathProduct {
		v.Add("qualification_path", "must be manual or product; score qualification is automatic")
	}
	if cmd.To == StatusDisqualified && !cmd.DisqualifyReason.Valid() {
		v.Add("disqualify_reason", "must be one of junk, no_response, not_a_fit, competitor, duplicate, other")
	}
	if msg := checkText(cmd.Reason, MaxNoteLen); msg != "" {
		v.Add("reason", "%s", msg)
	}
	if err := v.Err("invalid status change"); err != nil {
		return nil, err
	}
	cmd.Reason = strings.TrimSpace(cmd.Reason)

	b := builder{l: l}
	from := l.Status
	switch cmd.To {
	case StatusMQL:
		if from != StatusNew && from != StatusRecycled {
			return nil, illegal(from, cmd.To)
		}
		path := cmd.Path
		if path == PathUnspecified {
			path = PathManual
		}
		b.emit(b.statusChange(StatusMQL, now, func(e *LeadStatusChanged) {
			e.QualificationPath, e.Reason, e.Automatic = path, cmd.Reason, cmd.Automatic
		}))
	case StatusSAL:
		if from != StatusMQL {
			return nil, illegal(from, cmd.To)
		}
		b.emit(b.statusChange(StatusSAL, now, func(e *LeadStatusChanged) { e.Reason, e.Automatic = cmd.Reason, cmd.Automatic }))
	case StatusSQL:
		if from != StatusSAL {
			return nil, illegal(from, cmd.To)
		}
		if missing := missingBant(l.Bant, p.Settings); len(missing) > 0 {
			return nil, apperr.Precondition(ReasonBantIncomplete,
				"lead is %s: becoming SALES_QUALIFIED needs a confirmed %s", from, strings.Join(missing, ", "))
		}
		b.emit(b.statusChange(StatusSQL, now, func(e *LeadStatusChanged) { e.Reason, e.Automatic = cmd.Reason, cmd.Automatic }))
	case StatusDisqualified:
		if !from.Open() {
			return nil, illegal(from, cmd.To)
		}
		b.emit(b.statusChange(StatusDisqualified, now, func(e *LeadStatusChanged) {
			e.DisqualifyReason, e.Reason, e.Automatic = cmd.DisqualifyReason, cmd.Reason, cmd.Automatic
		}))
	case StatusRecycled:
		reason := cmd.Reason
		switch {
		case from == StatusDisqualified:
		case from == StatusNew || from == StatusMQL || from == StatusSAL || from == StatusSQL:
			stall := p.Settings.stallAfter()
			in := now.Sub(l.StatusChangedAt)
			if stall <= 0 || in < stall {
				return nil, apperr.Precondition(ReasonNotStalled,
					"lead is %s since %s: only disqualified leads or leads without a status change for %d days can be recycled",
					from, days(in), p.Settings.StallDays)
			}
			if reason == "" {
				reason = fmt.Sprintf("stalled: no status change for %s (stall threshold %d days)", days(in), p.Settings.StallDays)
			}
		default:
			return nil, illegal(from, cmd.To)
		}
		b.emit(b.statusChange(StatusRecycled, now, func(e *LeadStatusChanged) {
			e.Reason, e.Automatic, e.Remarket = reason, cmd.Automatic, false
		}))
	default: // NEW is reached only by re-engagement; CONVERTED was rejected above.
		return nil, illegal(from, cmd.To)
	}
	return b.events, nil
}

func illegal(from, to Status) error {
	return apperr.Precondition(ReasonIllegalTransition, "lead is %s: it cannot move to %s", from, to)
}

func days(d time.Duration) string {
	n := int(d / (24 * time.Hour))
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

// missingBant names the BANT parts the settings require that are not confirmed.
func missingBant(b Bant, s Settings) []string {
	var missing []string
	for _, part := range []struct {
		name                string
		required, confirmed bool
	}{
		{"budget", s.RequireBudget, b.BudgetConfirmed},
		{"authority", s.RequireAuthority, b.AuthorityConfirmed},
		{"need", s.RequireNeed, b.NeedConfirmed},
		{"timeline", s.RequireTimeline, b.TimelineConfirmed},
	} {
		if part.required && !part.confirmed {
			missing = append(missing, part.name)
		}
	}
	return missing
}

// Disqualify is ChangeStatus to DISQUALIFIED with a reason and note.
func Disqualify(l Lead, reason DisqualifyReason, note string, p Policy, now time.Time) ([]Event, error) {
	return ChangeStatus(l, StatusChange{To: StatusDisqualified, DisqualifyReason: reason, Reason: note}, p, now)
}

// Recycle is ChangeStatus to RECYCLED: allowed for a disqualified lead or a stalled one.
// automatic marks the stall sweeper's moves.
func Recycle(l Lead, note string, automatic bool, p Policy, now time.Time) ([]Event, error) {
	return ChangeStatus(l, StatusChange{To: StatusRecycled, Reason: note, Automatic: automatic}, p, now)
}
