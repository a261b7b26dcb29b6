package protomap

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/libs/protoconv"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/segment"
)

// EnrollmentToProto maps an enrollment (the status numbers are the proto's).
func EnrollmentToProto(e segment.Enrollment) *campaignv1.Enrollment {
	return &campaignv1.Enrollment{Id: e.ID, CampaignId: e.CampaignID, SegmentId: e.SegmentID, SegmentVersion: e.SegmentVersion,
		Status: campaignv1.EnrollmentStatus(e.Status), Examined: e.Examined, Added: e.Added, AlreadyMembers: e.AlreadyMembers,
		Suppressed: e.Suppressed, Error: e.Error, StartedAt: protoconv.Timestamp(e.StartedAt), FinishedAt: protoconv.Timestamp(e.FinishedAt)}
}

// EnrollmentFromProto is the lossless inverse of EnrollmentToProto.
func EnrollmentFromProto(p *campaignv1.Enrollment) segment.Enrollment {
	return segment.Enrollment{ID: p.GetId(), CampaignID: p.GetCampaignId(), SegmentID: p.GetSegmentId(), SegmentVersion: p.GetSegmentVersion(),
		Status: segment.EnrollmentStatus(p.GetStatus()), Examined: p.GetExamined(), Added: p.GetAdded(), AlreadyMembers: p.GetAlreadyMembers(),
		Suppressed: p.GetSuppressed(), Error: p.GetError(), StartedAt: protoconv.Time(p.GetStartedAt()), FinishedAt: protoconv.Time(p.GetFinishedAt())}
}

// EnrollmentCodec is the eventstore.Codec of the enrollment aggregate.
type EnrollmentCodec struct{}

var (
	_ eventstore.Codec[segment.EnrollmentProgressed]        = EnrollmentCodec{}
	_ eventstore.OccurredAter[segment.EnrollmentProgressed] = EnrollmentCodec{}
)

// OccurredAt implements eventstore.OccurredAter.
func (EnrollmentCodec) OccurredAt(e segment.EnrollmentProgressed) time.Time { return e.At }

// Encode implements eventstore.Codec.
func (EnrollmentCodec) Encode(e segment.EnrollmentProgressed) (proto.Message, error) {
	return &campaignv1.EnrollmentProgressed{Enrollment: EnrollmentToProto(e.Enrollment), Cursor: e.Cursor}, nil
}

// Decode implements eventstore.Codec.
func (EnrollmentCodec) Decode(r eventstore.Recorded) (segment.EnrollmentProgressed, error) {
	msg, err := r.Payload()
	if err != nil {
		return segment.EnrollmentProgressed{}, err
	}
	m, ok := msg.(*campaignv1.EnrollmentProgressed)
	if !ok {
		return segment.EnrollmentProgressed{}, fmt.Errorf("protomap: %s is not an enrollment event", r.Envelope.GetEventType())
	}
	return segment.EnrollmentProgressed{Enrollment: EnrollmentFromProto(m.GetEnrollment()), Cursor: m.GetCursor(),
		At: protoconv.Time(r.Envelope.GetOccurredAt())}, nil
}
