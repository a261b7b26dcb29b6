package app

import (
	"context"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/segment"
)

// SegmentDeps are the adapters of segments and enrollment (helper C2).
type SegmentDeps struct {
	Segments    *eventstore.Repository[segment.State, segment.Event]
	Enrollments *eventstore.Repository[segment.EnrollmentState, segment.EnrollmentProgressed]
	// Names keeps names unique per tenant; nil checks the read model only (racy).
	Names SegmentNames
	Views SegmentViews
	// Records pages through the leads service's leads and contacts.
	Records SegmentRecords
	// PageSize is how many records an enrollment or preview asks the leads service for at a
	// time (and so how many members one progress event covers); default 500, at most 1000.
	PageSize int
}

// SegmentNames is the name-uniqueness index (adapters/segmentnames).
type SegmentNames interface {
	// Claim reserves name for segment id; holds says whether a holder still uses the name.
	Claim(ctx context.Context, tenant, name, id string, holds func(ctx context.Context, tenant, id, name string) (exists, holds bool, err error)) error
	// Release frees name if id holds it.
	Release(ctx context.Context, tenant, name, id string)
}

// SegmentViews is the segments read model.
type SegmentViews interface {
	WaitFor(ctx context.Context, seq uint64) error
	List(ctx context.Context, tenant string, pageSize int, token string) ([]segment.Segment, string, error)
	ByName(ctx context.Context, tenant, name string) (segment.Segment, bool, error)
}

// SegmentRecords is the leads service as segments see it. The tenant travels in ctx.
type SegmentRecords interface {
	// Page returns a page of o's records that f selects, oldest first, and the next page's
	// token ("" on the last page); token must come from a call with the same f.
	Page(ctx context.Context, o segment.Object, f segment.Filter, pageSize int, token string) ([]segment.Person, string, error)
}
