package protomap

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/libs/protoconv"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/segment"
)

// SegmentObjectToProto maps whose records a segment selects.
func SegmentObjectToProto(o segment.Object) campaignv1.MemberType {
	switch o {
	case segment.ObjectLead:
		return campaignv1.MemberType_MEMBER_TYPE_LEAD
	case segment.ObjectContact:
		return campaignv1.MemberType_MEMBER_TYPE_CONTACT
	}
	return campaignv1.MemberType_MEMBER_TYPE_UNSPECIFIED
}

// SegmentObjectFromProto is the inverse of SegmentObjectToProto; UNSPECIFIED and unknown
// numbers map to "" (which the domain refuses where an object is required).
func SegmentObjectFromProto(t campaignv1.MemberType) segment.Object {
	switch t {
	case campaignv1.MemberType_MEMBER_TYPE_LEAD:
		return segment.ObjectLead
	case campaignv1.MemberType_MEMBER_TYPE_CONTACT:
		return segment.ObjectContact
	}
	return ""
}

// SegmentToProto maps a segment.
func SegmentToProto(g segment.Segment) *campaignv1.Segment {
	return &campaignv1.Segment{Id: g.ID, Version: g.Version, Name: g.Name, Description: g.Description,
		Object: SegmentObjectToProto(g.Object), Criteria: g.Criteria,
		CreatedAt: protoconv.Timestamp(g.CreatedAt), UpdatedAt: protoconv.Timestamp(g.UpdatedAt)}
}

// SegmentFromProto is the lossless inverse of SegmentToProto.
func SegmentFromProto(p *campaignv1.Segment) segment.Segment {
	return segment.Segment{ID: p.GetId(), Version: p.GetVersion(), Name: p.GetName(), Description: p.GetDescription(),
		Object: SegmentObjectFromProto(p.GetObject()), Criteria: p.GetCriteria(),
		CreatedAt: protoconv.Time(p.GetCreatedAt()), UpdatedAt: protoconv.Time(p.GetUpdatedAt())}
}

// SegmentRequestError rewrites the domain's violation paths of a segment ("name",
// "criteria") into the request's ("segment.name", "segment.criteria"); update_mask paths stay.
func SegmentRequestError(err error) error {
	return apperr.RenameFields(err, func(f string) string {
		if f == "update_mask" || len(f) > 12 && f[:12] == "update_mask." {
			return f
		}
		return "segment." + f
	})
}

// SegmentCodec is the eventstore.Codec of the segment aggregate.
type SegmentCodec struct{}

var (
	_ eventstore.Codec[segment.Event]        = SegmentCodec{}
	_ eventstore.OccurredAter[segment.Event] = SegmentCodec{}
)

// OccurredAt implements eventstore.OccurredAter.
func (SegmentCodec) OccurredAt(e segment.Event) time.Time { return e.OccurredAt() }

// Encode implements eventstore.Codec.
func (SegmentCodec) Encode(e segment.Event) (proto.Message, error) {
	switch e := e.(type) {
	case segment.SegmentSaved:
		return &campaignv1.SegmentSaved{Segment: SegmentToProto(e.Segment)}, nil
	case segment.SegmentDeleted:
		return &campaignv1.SegmentDeleted{}, nil
	}
	return nil, fmt.Errorf("protomap: no mapping for segment event %T", e)
}

// Decode implements eventstore.Codec.
func (SegmentCodec) Decode(r eventstore.Recorded) (segment.Event, error) {
	msg, err := r.Payload()
	if err != nil {
		return nil, err
	}
	at := protoconv.Time(r.Envelope.GetOccurredAt())
	switch m := msg.(type) {
	case *campaignv1.SegmentSaved:
		return segment.SegmentSaved{Segment: SegmentFromProto(m.GetSegment()), At: at}, nil
	case *campaignv1.SegmentDeleted:
		return segment.SegmentDeleted{At: at}, nil
	}
	return nil, fmt.Errorf("protomap: %s is not a segment event", r.Envelope.GetEventType())
}
