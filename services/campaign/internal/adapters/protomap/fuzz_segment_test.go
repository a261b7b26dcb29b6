package protomap_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcerr"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/segment"
)

// FuzzCreateSegment feeds arbitrary CreateSegmentRequest wire bytes through the request mapping
// and segment.Create: name, description, object and the criteria grammar (lexer, parser, the
// object's field check). Property: no panic, and a rejection is InvalidArgument with field
// violations. (segment.FuzzParse fuzzes the grammar alone, with round-trip properties.)
// `go test -fuzz FuzzCreateSegment ./internal/adapters/protomap` in services/campaign explores.
func FuzzCreateSegment(f *testing.F) {
	lead, contact := campaignv1.MemberType_MEMBER_TYPE_LEAD, campaignv1.MemberType(2)
	for _, s := range []*campaignv1.Segment{
		{Name: "Hot", Object: lead, Criteria: `status in (MARKETING_QUALIFIED) and tag has "enterprise" and score >= 60`},
		{Name: "Recent", Object: contact, Criteria: `created within 30d and not (member of campaign "c1")`},
		{Name: "x", Object: lead, Criteria: `country in ("' OR 1=1 --", "x'); DROP TABLE leads; --")`},
		{Name: "", Object: 0, Criteria: "("},
		{Name: string(make([]byte, 500)), Object: 99, Criteria: "score >"},
		{Name: "é\x00", Object: contact, Criteria: `source in (web_form)`},
		nil,
	} {
		b, err := proto.Marshal(&campaignv1.CreateSegmentRequest{Segment: s})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		var req campaignv1.CreateSegmentRequest
		if proto.Unmarshal(data, &req) != nil {
			return // gRPC refuses it before any handler runs
		}
		g := protomap.SegmentFromProto(req.GetSegment())
		g.ID = "s1" // chosen by the app
		if _, err := segment.Create(segment.State{}, g, now); err != nil {
			requireFieldViolations(t, err)
		}
	})
}

// requireFieldViolations is the property of a rejected request: InvalidArgument on the wire with
// at least one field violation, so the client learns which field to fix.
func requireFieldViolations(t *testing.T, err error) {
	t.Helper()
	st := grpcerr.ToStatus(context.Background(), err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("rejected with %v (%v), want InvalidArgument", st.Code(), err)
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			return
		}
	}
	t.Fatalf("InvalidArgument without field violations: %v", err)
}
