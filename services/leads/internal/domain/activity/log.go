package activity

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/evcrm/evcrm/libs/apperr"
)

// Input limits. MaxFuture is how far ahead occurred_at may be (a meeting logged the evening
// before, clock skew).
const (
	MaxRecords        = 10
	MaxSubjectLen     = 255
	MaxBodyBytes      = 32 << 10
	MaxOutcomeLen     = 255
	MaxParticipants   = 50
	MaxParticipantLen = 255
	MaxUserIDLen      = 128
	MaxFuture         = 24 * time.Hour
)

// NewActivity is the LogActivity command.
type NewActivity struct {
	// ID is chosen by the app (a UUIDv7).
	ID           string
	Kind         Kind
	Records      []RecordRef
	Subject      string
	Body         string
	Direction    Direction
	Outcome      string
	Duration     time.Duration
	Participants []string
	// OccurredAt is when it happened; zero means now.
	OccurredAt time.Time
	// LoggedBy is the acting user (from the request's credentials).
	LoggedBy string
}

// Log decides LogActivity: it validates every field (one violation per bad field, paths named
// like the proto fields: "kind", "records[2].id", "subject", …) and returns ActivityLogged.
// Subject, outcome and participants are trimmed; the body is kept as typed.
func Log(a Activity, cmd NewActivity, now time.Time) ([]Event, error) {
	if a.Exists() {
		return nil, apperr.Exists("activity already exists", a.ID)
	}
	var v apperr.Violations
	if !ValidID(cmd.ID) {
		v.Add("id", "must match [A-Za-z0-9_-]{1,64}")
	}
	if !cmd.Kind.Valid() {
		v.Add("kind", "must be one of CALL, EMAIL, MEETING, NOTE")
	}
	validateRecords(cmd.Records, &v)
	subject := strings.TrimSpace(cmd.Subject)
	switch {
	case subject == "":
		v.Add("subject", "is required")
	default:
		checkLine("subject", subject, MaxSubjectLen, &v)
	}
	if len(cmd.Body) > MaxBodyBytes {
		v.Add("body", "must be at most %d bytes", MaxBodyBytes)
	} else if !utf8.ValidString(cmd.Body) {
		v.Add("body", "must be valid UTF-8")
	}
	if cmd.Direction < DirectionUnspecified || cmd.Direction > DirectionOutbound {
		v.Add("direction", "unknown direction %d", int(cmd.Direction))
	} else if cmd.Direction != DirectionUnspecified && cmd.Kind.Valid() && !cmd.Kind.Directed() {
		v.Add("direction", "only calls and emails have a direction, not a %s", strings.ToLower(cmd.Kind.String()))
	}
	outcome := strings.TrimSpace(cmd.Outcome)
	checkLine("outcome", outcome, MaxOutcomeLen, &v)
	if cmd.Duration < 0 {
		v.Add("duration", "must not be negative")
	}
	participants := make([]string, 0, len(cmd.Participants))
	if len(cmd.Participants) > MaxParticipants {
		v.Add("participants", "at most %d participants", MaxParticipants)
	} else {
		for i, p := range cmd.Participants {
			p = strings.TrimSpace(p)
			field := fmt.Sprintf("participants[%d]", i)
			if p == "" {
				v.Add(field, "must not be empty")
				continue
			}
			checkLine(field, p, MaxParticipantLen, &v)
			participants = append(participants, p)
		}
	}
	occurred := cmd.OccurredAt.UTC()
	if cmd.OccurredAt.IsZero() {
		occurred = now
	} else if occurred.After(now.Add(MaxFuture)) {
		v.Add("occurred_at", "must not be more than a day in the future")
	}
	if cmd.LoggedBy == "" || utf8.RuneCountInString(cmd.LoggedBy) > MaxUserIDLen {
		v.Add("logged_by", "must be a user id of 1 to %d characters", MaxUserIDLen)
	}
	if err := v.Err("invalid activity"); err != nil {
		return nil, err
	}
	if len(participants) == 0 {
		participants = nil
	}
	n := Activity{ID: cmd.ID, Kind: cmd.Kind, Records: append([]RecordRef(nil), cmd.Records...),
		Subject: subject, Body: cmd.Body, Direction: cmd.Direction, Outcome: outcome, Duration: cmd.Duration,
		Participants: participants, OccurredAt: occurred, LoggedBy: cmd.LoggedBy, CreatedAt: now}
	return []Event{ActivityLogged{Activity: n, At: now}}, nil
}

// validateRecords checks 1 to MaxRecords distinct, well-formed references.
func validateRecords(rs []RecordRef, v *apperr.Violations) {
	switch {
	case len(rs) == 0:
		v.Add("records", "name at least one record")
		return
	case len(rs) > MaxRecords:
		v.Add("records", "at most %d records", MaxRecords)
		return
	}
	seen := map[RecordRef]int{}
	for i, r := range rs {
		ok := true
		if !r.Type.Valid() {
			v.Add(fmt.Sprintf("records[%d].type", i), "must be one of LEAD, CONTACT, ACCOUNT, OPPORTUNITY")
			ok = false
		}
		if !ValidID(r.ID) {
			v.Add(fmt.Sprintf("records[%d].id", i), "must match [A-Za-z0-9_-]{1,64}")
			ok = false
		}
		if j, dup := seen[r]; dup && ok {
			v.Add(fmt.Sprintf("records[%d]", i), "repeats records[%d]", j)
		}
		seen[r] = i
	}
}

// ValidateRecord checks one optional reference (a task's record); field names the request field.
func ValidateRecord(field string, r RecordRef, v *apperr.Violations) {
	if r.IsZero() {
		return
	}
	if !r.Type.Valid() {
		v.Add(field+".type", "must be one of LEAD, CONTACT, ACCOUNT, OPPORTUNITY")
	}
	if !ValidID(r.ID) {
		v.Add(field+".id", "must match [A-Za-z0-9_-]{1,64}")
	}
}

// checkLine adds a violation when s is longer than maxLen characters or holds control
// characters (a one-line value: subject, outcome, participant).
func checkLine(field, s string, maxLen int, v *apperr.Violations) {
	switch {
	case utf8.RuneCountInString(s) > maxLen:
		v.Add(field, "must be at most %d characters", maxLen)
	case !utf8.ValidString(s):
		v.Add(field, "must be valid UTF-8")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		v.Add(field, "must not contain control characters")
	}
}

// CheckLine is checkLine for the task package, which shares the one-line rules.
func CheckLine(field, s string, maxLen int, v *apperr.Violations) { checkLine(field, s, maxLen, v) }
