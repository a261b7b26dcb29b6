package service

import (
	"context"
	"time"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/platform/lifecycle"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/leadsclient"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/segmentnames"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/segmentview"
	"github.com/evcrm/evcrm/services/campaign/internal/app"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/segment"
)

// buildSegments builds the segment and enrollment repositories, the name index, the in-memory
// segments view with its projector, and the leads client segments page through.
func buildSegments(ctx context.Context, e env, deps *app.Deps, s *Service) error {
	ro := eventstore.RepositoryOptions{Idempotency: e.idem}
	segs, err := eventstore.NewRepository(e.es, segment.AggregateType, protomap.SegmentCodec{},
		func() segment.State { return segment.State{} }, segment.Apply, ro)
	if err != nil {
		return err
	}
	enrs, err := eventstore.NewRepository(e.es, segment.EnrollmentAggregateType, protomap.EnrollmentCodec{},
		func() segment.EnrollmentState { return segment.EnrollmentState{} }, segment.ApplyEnrollment, ro)
	if err != nil {
		return err
	}
	names, err := segmentnames.Open(ctx, e.js, e.o.Replicas)
	if err != nil {
		return err
	}
	view := segmentview.New(protomap.SegmentCodec{})
	view.Cover(projection.NewCoverage(e.js, segmentview.Stream, segmentview.Subjects))
	runner, err := projection.NewOrdered(e.js, projection.Config{
		Name:               "campaign-segments",
		Sources:            []projection.Source{{Stream: segmentview.Stream, FilterSubjects: segmentview.Subjects}},
		BatchSize:          500,
		BatchWait:          10 * time.Millisecond,
		DeadLetterReplicas: e.o.Replicas,
		Logger:             e.o.Logger,
		Metrics:            e.o.Metrics,
	}, view)
	if err != nil {
		return err
	}
	s.workers = append(s.workers, lifecycle.Worker{Name: "segments-projector", Run: runner.Run})
	deps.Segments = app.SegmentDeps{Segments: segs, Enrollments: enrs, Names: names, Views: view, PageSize: e.o.SegmentPageSize}
	// The leads client is the one buildCampaigns dialled (s.leads), when it did.
	if s.leads == nil && e.o.LeadsAddr != "" {
		lc, err := leadsclient.Dial(e.o.LeadsAddr)
		if err != nil {
			return err
		}
		s.leads = lc
		s.closers = append(s.closers, lc.Close)
	}
	if s.leads != nil {
		deps.Segments.Records = s.leads
	}
	return nil
}
