package app

import (
	"context"
	"errors"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/segment"
)

// EnrollSegment adds the records of a segment (the campaign's target segment when segmentID is
// "") to a campaign, a page of the leads service at a time: each page's matches go through
// AddMembers (suppression, idempotent membership), then EnrollmentProgressed records the
// counters and the page token after the page, and progress is called with the enrollment.
//
// Interrupted (the caller went away, the leads service failed, the process died), the same
// call resumes after the last recorded page: the page in flight is added again, and its members
// that made it the first time come back as already members, so the member set is exact and no
// member is added twice. A finished (DONE) enrollment starts a new pass when called again,
// which adds whoever matches since. A changed segment (a new version) is a new enrollment.
// Two calls running at once on one enrollment conflict on the progress record: the later one
// fails with Conflict.
func (a *App) EnrollSegment(ctx context.Context, tenant, campaignID, segmentID string, progress func(segment.Enrollment) error) (segment.Enrollment, error) {
	if !campaign.ValidID(campaignID) {
		return segment.Enrollment{}, apperr.InvalidFields("invalid enrollment", apperr.FieldViolation{Field: "campaign_id", Description: "required: 1 to 64 characters of [A-Za-z0-9_-]"})
	}
	c, err := a.loadCampaign(ctx, tenant, campaignID)
	if err != nil {
		return segment.Enrollment{}, err
	}
	field := "segment_id"
	if segmentID == "" {
		if segmentID = c.TargetSegmentID; segmentID == "" {
			return segment.Enrollment{}, apperr.InvalidFields("invalid enrollment", apperr.FieldViolation{Field: "segment_id", Description: "required: the campaign has no target segment"})
		}
		field = "campaign.target_segment_id"
	}
	sg, err := a.loadSegment(ctx, tenant, segmentID, field)
	if err != nil {
		return segment.Enrollment{}, err
	}
	cr, err := compileSegment(sg.Segment.Criteria, sg.Segment.Object)
	if err != nil {
		return segment.Enrollment{}, err
	}
	repo := a.d.Segments.Enrollments
	ref := repo.Ref(tenant, segment.EnrollmentID(campaignID, segmentID, sg.Version))
	st, err := a.recordEnrollment(ctx, ref, nil, func(s segment.EnrollmentState) ([]segment.EnrollmentProgressed, error) {
		return segment.Begin(s, segment.Enrollment{ID: ref.ID, CampaignID: campaignID, SegmentID: segmentID, SegmentVersion: sg.Version}, a.now(ctx)), nil
	})
	if err != nil {
		return segment.Enrollment{}, err
	}
	if err := progress(st.Enrollment); err != nil {
		return st.Enrollment, err
	}
	// The criteria's "now" is the pass's start, on every page and after every resume: the
	// leads service binds a page token to the filters, and "within 30d" must not drift.
	asOf := st.Enrollment.StartedAt
	f := segment.Pushdown(cr.expr, cr.object, asOf)
	lctx, stop := context.WithCancel(withTenant(ctx, tenant))
	defer stop()
	// The next page is fetched while the current one is added: the leads round trip hides
	// behind the appends. The cursor still moves only after a page is added.
	fetch := func(token string) <-chan fetchedPage {
		ch := make(chan fetchedPage, 1)
		if f.Empty {
			ch <- fetchedPage{}
			return ch
		}
		go func() {
			page, next, err := a.d.Segments.Records.Page(lctx, cr.object, f, a.segmentPageSize(), token)
			ch <- fetchedPage{page, next, err}
		}()
		return ch
	}
	pending := fetch(st.Cursor)
	for {
		got := <-pending
		next, err := got.next, got.err
		var out segment.PageOutcome
		if err == nil {
			if next != "" {
				pending = fetch(next)
			}
			out, err = a.enrollPage(ctx, tenant, c.ID, sg.Segment.ID, cr, got.page, asOf)
		}
		if err != nil {
			return a.failEnrollment(ctx, ref, st, err)
		}
		cur := st
		st, err = a.recordEnrollment(ctx, ref, &cur.Version, func(s segment.EnrollmentState) ([]segment.EnrollmentProgressed, error) {
			return segment.Progress(s, out, next, a.now(ctx))
		})
		if err != nil {
			return cur.Enrollment, err
		}
		if err := progress(st.Enrollment); err != nil {
			return st.Enrollment, err
		}
		if st.Enrollment.Status == segment.EnrollmentDone {
			return st.Enrollment, nil
		}
	}
}

// fetchedPage is one page of the leads service, fetched ahead.
type fetchedPage struct {
	page []segment.Person
	next string
	err  error
}

// recordEnrollment appends the enrollment's next event; expected, when set, is the version the
// caller last saw (another run in between is a Conflict).
func (a *App) recordEnrollment(ctx context.Context, ref eventstore.Ref, expected *uint64,
	decide func(segment.EnrollmentState) ([]segment.EnrollmentProgressed, error)) (segment.EnrollmentState, error) {
	st, _, err := a.d.Segments.Enrollments.Run(ctx, ref, eventstore.Command{Name: "EnrollSegment", ExpectedVersion: expected}, decide)
	return st, err
}

// enrollPage evaluates a page and adds its matches.
func (a *App) enrollPage(ctx context.Context, tenant, campaignID, segmentID string, cr segmentCriteria, page []segment.Person, asOf time.Time) (segment.PageOutcome, error) {
	out := segment.PageOutcome{Examined: int64(len(page))}
	matched, err := a.matchSegment(ctx, tenant, cr, page, asOf)
	if err != nil || len(matched) == 0 {
		return out, err
	}
	people := make([]Person, len(matched))
	for i, p := range matched {
		people[i] = Person{Type: segmentMemberType(cr.object), ID: p.ID, Known: true, EmailOptOut: p.EmailOptOut, DoNotContact: p.DoNotContact}
	}
	results, _, err := a.AddMembers(ctx, tenant, campaignID, people, "segment:"+segmentID, Write{})
	if err != nil {
		return out, err
	}
	for _, r := range results {
		switch r.Outcome {
		case AddAdded:
			out.Added++
		case AddAlreadyMember:
			out.AlreadyMembers++
		case AddSuppressed:
			out.Suppressed++
		}
	}
	return out, nil
}

// failEnrollment records a failed page (FAILED, cursor unchanged) unless the caller went away
// (then the enrollment simply stays RUNNING at its cursor), and returns cause.
func (a *App) failEnrollment(ctx context.Context, ref eventstore.Ref, st segment.EnrollmentState, cause error) (segment.Enrollment, error) {
	if ctx.Err() != nil || errors.Is(cause, context.Canceled) {
		return st.Enrollment, cause
	}
	reason := "internal error"
	if e, ok := apperr.As(cause); ok && e.Kind != apperr.Internal {
		reason = e.Message
	}
	if next, err := a.recordEnrollment(context.WithoutCancel(ctx), ref, &st.Version, func(s segment.EnrollmentState) ([]segment.EnrollmentProgressed, error) {
		return segment.Fail(s, reason, a.now(ctx)), nil
	}); err == nil {
		st = next
	}
	return st.Enrollment, cause
}
