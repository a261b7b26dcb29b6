package segment

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
)

// EnrollmentAggregateType is the event-store aggregate type of enrollments.
const EnrollmentAggregateType = "enrollment"

// EnrollmentStatus is where an enrollment stands (numbers of crm.campaign.v1.EnrollmentStatus).
type EnrollmentStatus int

// Enrollment statuses.
const (
	EnrollmentUnspecified EnrollmentStatus = iota
	EnrollmentRunning
	EnrollmentDone
	EnrollmentFailed
)

// Enrollment is one run of a segment into a campaign, page by page.
type Enrollment struct {
	ID             string
	CampaignID     string
	SegmentID      string
	SegmentVersion uint64
	Status         EnrollmentStatus
	// Records examined, added, already members, suppressed (do-not-contact, opted out,
	// unsubscribed) and not found.
	Examined, Added, AlreadyMembers, Suppressed int64
	Error                                       string
	// StartedAt is when this pass began; it is also the "now" of the criteria for every page
	// of the pass (the leads service binds a page token to its filters, and "created within
	// 30d" must mean the same instant on a resumed page).
	StartedAt  time.Time
	FinishedAt time.Time
}

// EnrollmentID derives the enrollment id from the campaign, the segment and its version: the
// same call after an interruption finds the same enrollment, and a changed segment starts a new
// one.
func EnrollmentID(campaignID, segmentID string, version uint64) string {
	h := sha256.Sum256([]byte(campaignID + "\x00" + segmentID + "\x00" + strconv.FormatUint(version, 10)))
	return "enr-" + hex.EncodeToString(h[:16])
}

// EnrollmentProgressed records the enrollment after a page: its counters and the leads page
// token after the last page whose members were all added ("" before the first page, and on a
// finished pass).
type EnrollmentProgressed struct {
	Enrollment Enrollment
	Cursor     string
	At         time.Time
}

// EventType implements eventstore naming.
func (EnrollmentProgressed) EventType() string { return "EnrollmentProgressed" }

// OccurredAt is when the progress was recorded.
func (e EnrollmentProgressed) OccurredAt() time.Time { return e.At }

// EnrollmentState is an enrollment folded from its events.
type EnrollmentState struct {
	Enrollment Enrollment
	Cursor     string
	Version    uint64
}

// ApplyEnrollment folds one event.
func ApplyEnrollment(s EnrollmentState, e EnrollmentProgressed) EnrollmentState {
	s.Version++
	s.Enrollment, s.Cursor = e.Enrollment, e.Cursor
	return s
}

// PageOutcome counts what one page of an enrollment did.
type PageOutcome struct {
	Examined, Added, AlreadyMembers, Suppressed int64
}

// Begin decides the start of a call of EnrollSegment: a new enrollment, or the restart of a
// finished one (a new pass: members already added come back as already members, people who
// match since are added), both at cursor "". A RUNNING or FAILED enrollment resumes as it is:
// no event, the caller continues from its cursor.
func Begin(s EnrollmentState, e Enrollment, now time.Time) []EnrollmentProgressed {
	switch s.Enrollment.Status {
	case EnrollmentRunning, EnrollmentFailed:
		if s.Version > 0 {
			return nil
		}
	}
	e.Status, e.StartedAt, e.FinishedAt, e.Error = EnrollmentRunning, now.Truncate(time.Second), time.Time{}, ""
	e.Examined, e.Added, e.AlreadyMembers, e.Suppressed = 0, 0, 0, 0
	return []EnrollmentProgressed{{Enrollment: e, At: now}}
}

// Progress decides the record of one page done: counters add up, cursor is the page token
// after it ("" when it was the last page, which finishes the pass as DONE).
func Progress(s EnrollmentState, o PageOutcome, cursor string, now time.Time) ([]EnrollmentProgressed, error) {
	if s.Version == 0 || s.Enrollment.Status == EnrollmentDone {
		return nil, apperr.Precondition("ENROLLMENT_NOT_RUNNING", "enrollment %s is not running", s.Enrollment.ID)
	}
	e := s.Enrollment
	e.Status, e.Error = EnrollmentRunning, ""
	e.Examined += o.Examined
	e.Added += o.Added
	e.AlreadyMembers += o.AlreadyMembers
	e.Suppressed += o.Suppressed
	if cursor == "" {
		e.Status, e.FinishedAt = EnrollmentDone, now
	}
	return []EnrollmentProgressed{{Enrollment: e, Cursor: cursor, At: now}}, nil
}

// Fail decides the record of a failed page: the cursor stays where the last good page left it,
// so the next call resumes there.
func Fail(s EnrollmentState, reason string, now time.Time) []EnrollmentProgressed {
	if s.Version == 0 || s.Enrollment.Status != EnrollmentRunning {
		return nil
	}
	e := s.Enrollment
	e.Status, e.Error = EnrollmentFailed, reason
	return []EnrollmentProgressed{{Enrollment: e, Cursor: s.Cursor, At: now}}
}
