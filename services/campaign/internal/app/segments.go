package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/segmentnames"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/segment"
)

// SegmentOutcome is a segment after a command.
type SegmentOutcome struct {
	Segment segment.Segment
	Result  eventstore.Result
}

func invalidSegmentID(field string) error {
	return apperr.InvalidFields("invalid segment id", apperr.FieldViolation{Field: field, Description: "required: 1 to 64 characters of [A-Za-z0-9_-]"})
}

// CreateSegment saves a new segment. Violations are named relative to the segment ("name",
// "criteria": the position of a parse error is in the description); a name another live segment
// of the tenant has (ignoring case) is AlreadyExists with that segment's id.
func (a *App) CreateSegment(ctx context.Context, tenant string, g segment.Segment, w Write) (SegmentOutcome, error) {
	now := a.now(ctx)
	g.ID = a.d.NewID()
	if _, err := segment.Create(segment.State{}, g, now); err != nil {
		return SegmentOutcome{}, err // invalid: nothing claimed, nothing appended
	}
	name := strings.TrimSpace(g.Name)
	// A retry with the same idempotency key finds the name held by its first attempt; the
	// repository answers it with the first outcome before decide runs, so the claim's verdict
	// only counts when a decision is made.
	claimErr := a.claimName(ctx, tenant, name, g.ID)
	st, res, err := a.d.Segments.Segments.Run(ctx, a.d.Segments.Segments.Ref(tenant, g.ID),
		eventstore.Command{Name: "CreateSegment", New: true, IdempotencyKey: w.IdempotencyKey},
		func(s segment.State) ([]segment.Event, error) {
			if claimErr != nil {
				return nil, claimErr
			}
			return segment.Create(s, g, now)
		})
	if err != nil {
		if claimErr == nil {
			a.releaseName(ctx, tenant, name, g.ID)
		}
		return SegmentOutcome{}, err
	}
	return SegmentOutcome{Segment: st.Segment, Result: res}, nil
}

// GetSegment returns a live segment from the log (read-your-writes without a wait).
func (a *App) GetSegment(ctx context.Context, tenant, id string) (segment.Segment, error) {
	s, err := a.loadSegment(ctx, tenant, id, "segment_id")
	return s.Segment, err
}

func (a *App) loadSegment(ctx context.Context, tenant, id, field string) (segment.State, error) {
	if !segment.ValidID(id) {
		return segment.State{}, invalidSegmentID(field)
	}
	agg, err := a.d.Segments.Segments.Load(ctx, a.d.Segments.Segments.Ref(tenant, id))
	if err != nil {
		return segment.State{}, err
	}
	if !agg.State.Exists() {
		return segment.State{}, segment.ErrNotFound(id)
	}
	return agg.State, nil
}

// UpdateSegment changes the fields paths name (name, description, criteria).
func (a *App) UpdateSegment(ctx context.Context, tenant, id string, g segment.Segment, paths []string, w Write) (SegmentOutcome, error) {
	cur, err := a.loadSegment(ctx, tenant, id, "segment_id")
	if err != nil {
		return SegmentOutcome{}, err
	}
	now := a.now(ctx)
	evs, err := segment.Update(cur, g, paths, now)
	if err != nil || len(evs) == 0 {
		return SegmentOutcome{Segment: cur.Segment, Result: eventstore.Result{Ref: a.d.Segments.Segments.Ref(tenant, id),
			Position: eventstore.Position{Version: cur.Version}}}, err
	}
	newName := evs[0].(segment.SegmentSaved).Segment.Name
	renamed := !strings.EqualFold(newName, cur.Segment.Name)
	var claimErr error
	if renamed {
		claimErr = a.claimName(ctx, tenant, newName, id)
	}
	st, res, err := a.d.Segments.Segments.Run(ctx, a.d.Segments.Segments.Ref(tenant, id),
		eventstore.Command{Name: "UpdateSegment", IdempotencyKey: w.IdempotencyKey, ExpectedVersion: w.ExpectedVersion},
		func(s segment.State) ([]segment.Event, error) {
			if claimErr != nil {
				return nil, claimErr
			}
			return segment.Update(s, g, paths, now)
		})
	if err != nil {
		if renamed && claimErr == nil {
			a.releaseName(ctx, tenant, newName, id)
		}
		return SegmentOutcome{}, err
	}
	if renamed {
		a.releaseName(ctx, tenant, cur.Segment.Name, id)
	}
	return SegmentOutcome{Segment: st.Segment, Result: res}, nil
}

// DeleteSegment deletes a segment and frees its name.
func (a *App) DeleteSegment(ctx context.Context, tenant, id string, w Write) (eventstore.Result, error) {
	cur, err := a.loadSegment(ctx, tenant, id, "segment_id")
	if err != nil {
		return eventstore.Result{}, err
	}
	now := a.now(ctx)
	_, res, err := a.d.Segments.Segments.Run(ctx, a.d.Segments.Segments.Ref(tenant, id),
		eventstore.Command{Name: "DeleteSegment", IdempotencyKey: w.IdempotencyKey, ExpectedVersion: w.ExpectedVersion},
		func(s segment.State) ([]segment.Event, error) { return segment.Delete(s, now) })
	if err == nil {
		a.releaseName(ctx, tenant, cur.Segment.Name, id)
	}
	return res, err
}

// ListSegments lists the tenant's segments by name.
func (a *App) ListSegments(ctx context.Context, tenant string, pageSize int, token string, r Read) ([]segment.Segment, string, error) {
	if err := waitRead(ctx, a.d.Segments.Views, r); err != nil {
		return nil, "", err
	}
	return a.d.Segments.Views.List(ctx, tenant, pageSize, token)
}

// claimName reserves name for segment id, as AlreadyExists when another live segment has it.
func (a *App) claimName(ctx context.Context, tenant, name, id string) error {
	taken := func(holder string) error {
		return &apperr.Error{Kind: apperr.AlreadyExists, Message: "a segment named " + name + " already exists", ExistingID: holder,
			Fields: []apperr.FieldViolation{{Field: "name", Description: "already used by segment " + holder}}}
	}
	if a.d.Segments.Names == nil {
		// Without the index only the read model is asked: two concurrent creates may both pass.
		g, found, err := a.d.Segments.Views.ByName(ctx, tenant, name)
		if err == nil && found && g.ID != id {
			return taken(g.ID)
		}
		return err
	}
	err := a.d.Segments.Names.Claim(ctx, tenant, name, id, a.holdsName)
	var t *segmentnames.ErrTaken
	switch {
	case errors.As(err, &t):
		return taken(t.SegmentID)
	case errors.Is(err, segmentnames.ErrBusy):
		return apperr.New(apperr.Conflict, "a segment named %s is being created concurrently; retry", name)
	}
	return err
}

func (a *App) holdsName(ctx context.Context, tenant, id, name string) (bool, bool, error) {
	agg, err := a.d.Segments.Segments.Load(ctx, a.d.Segments.Segments.Ref(tenant, id))
	if err != nil {
		return false, false, err
	}
	// A deleted segment exists (it has events) but holds no name; one without events is a
	// create still in flight, or one that failed.
	return agg.State.Version > 0, agg.State.Exists() && strings.EqualFold(agg.State.Segment.Name, name), nil
}

func (a *App) releaseName(ctx context.Context, tenant, name, id string) {
	if a.d.Segments.Names != nil {
		a.d.Segments.Names.Release(ctx, tenant, name, id)
	}
}

// SegmentQuery is what PreviewSegment evaluates: a saved segment, or unsaved criteria.
type SegmentQuery struct {
	SegmentID string
	Criteria  string
	Object    segment.Object
}

// Preview is the result of PreviewSegment.
type Preview struct {
	Count     int64
	SampleIDs []string
}

// segmentCriteria is criteria ready to run.
type segmentCriteria struct {
	expr   segment.Expr
	object segment.Object
	// touches: the criteria ask about campaigns, so each candidate's history is read.
	touches bool
}

func compileSegment(criteria string, o segment.Object) (segmentCriteria, error) {
	e, err := segment.Compile(criteria, o)
	if err != nil {
		return segmentCriteria{}, err
	}
	return segmentCriteria{expr: e, object: o, touches: segment.NeedsTouches(e)}, nil
}

// PreviewSegment counts the records a segment (or unsaved criteria) selects now, paging
// through the leads service with the pushed-down filters and evaluating the rest here, and
// returns the ids of the first sampleSize matches (10 when 0, at most 100).
func (a *App) PreviewSegment(ctx context.Context, tenant string, q SegmentQuery, sampleSize int) (Preview, error) {
	var v apperr.Violations
	if sampleSize < 0 || sampleSize > 100 {
		v.Add("sample_size", "0 to 100")
	}
	if sampleSize == 0 {
		sampleSize = 10
	}
	if q.SegmentID == "" && q.Object != segment.ObjectLead && q.Object != segment.ObjectContact {
		v.Add("object", "required with criteria: LEAD or CONTACT")
	}
	if q.SegmentID == "" && strings.TrimSpace(q.Criteria) == "" {
		v.Add("criteria", "name a segment_id or give criteria")
	}
	if err := v.Err("invalid preview"); err != nil {
		return Preview{}, err
	}
	if q.SegmentID != "" {
		s, err := a.loadSegment(ctx, tenant, q.SegmentID, "segment_id")
		if err != nil {
			return Preview{}, err
		}
		q.Criteria, q.Object = s.Segment.Criteria, s.Segment.Object
	}
	c, err := compileSegment(q.Criteria, q.Object)
	if err != nil {
		return Preview{}, err
	}
	now := a.now(ctx)
	f := segment.Pushdown(c.expr, c.object, now)
	var p Preview
	if f.Empty {
		return p, nil
	}
	ctx = withTenant(ctx, tenant)
	token := ""
	for {
		page, next, err := a.d.Segments.Records.Page(ctx, c.object, f, a.segmentPageSize(), token)
		if err != nil {
			return Preview{}, err
		}
		matched, err := a.matchSegment(ctx, tenant, c, page, now)
		if err != nil {
			return Preview{}, err
		}
		for _, m := range matched {
			p.Count++
			if len(p.SampleIDs) < sampleSize {
				p.SampleIDs = append(p.SampleIDs, m.ID)
			}
		}
		if next == "" {
			return p, nil
		}
		token = next
	}
}

func (a *App) segmentPageSize() int {
	switch n := a.d.Segments.PageSize; {
	case n <= 0:
		return 500
	case n > 1000:
		return 1000
	default:
		return n
	}
}

// matchSegment returns the people of page that c selects, reading their campaign history first when
// the criteria ask about campaigns.
func (a *App) matchSegment(ctx context.Context, tenant string, c segmentCriteria, page []segment.Person, now time.Time) ([]segment.Person, error) {
	var out []segment.Person
	for _, p := range page {
		if c.touches {
			ts, err := a.segmentTouches(ctx, tenant, p)
			if err != nil {
				return nil, err
			}
			p.Touches = ts
		}
		if segment.Eval(c.expr, p, now) {
			out = append(out, p)
		}
	}
	return out, nil
}

// segmentTouches reads a person's campaign history from the campaign read model (C1's
// MemberHistory).
func (a *App) segmentTouches(ctx context.Context, tenant string, p segment.Person) ([]segment.Touch, error) {
	if a.d.Campaigns.Views == nil {
		return nil, nil
	}
	_, hist, err := a.d.Campaigns.Views.History(ctx, tenant, segmentMemberType(p.Object), p.ID)
	if err != nil {
		return nil, err
	}
	out := make([]segment.Touch, len(hist))
	for i, t := range hist {
		out[i] = segment.Touch{CampaignID: t.CampaignID, Kind: segmentTouchKind(t.Status, t.Kind), Responded: t.Responded, At: t.At}
	}
	return out, nil
}

func segmentTouchKind(status string, k campaign.Kind) segment.Kind {
	if status == "" {
		return "" // the membership itself
	}
	switch k {
	case campaign.KindOpened:
		return segment.KindOpened
	case campaign.KindClicked:
		return segment.KindClicked
	case campaign.KindResponded:
		return segment.KindResponded
	case campaign.KindConverted:
		return segment.KindConverted
	case campaign.KindUnsubscribed:
		return segment.KindUnsubscribed
	}
	return segment.Kind(strings.ToLower(status))
}

func segmentMemberType(o segment.Object) member.Type {
	if o == segment.ObjectContact {
		return member.TypeContact
	}
	return member.TypeLead
}
