package protomap

import (
	"reflect"
	"strings"
	"testing"
	"time"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/segment"
)

// The segment grammar keeps its own copy of the leads enums' names; they must be the proto's,
// in order, without prefix.
func TestSegmentEnumNamesAreTheLeadsProtos(t *testing.T) {
	t.Parallel()
	names := func(m map[int32]string, prefix string) []string {
		out := make([]string, len(m)-1)
		for n, s := range m {
			if n > 0 {
				out[n-1] = strings.TrimPrefix(s, prefix)
			}
		}
		return out
	}
	for _, tt := range []struct {
		got, want []string
	}{
		{segment.Statuses, names(leadsv1.LeadStatus_name, "LEAD_STATUS_")},
		{segment.Sources, names(leadsv1.LeadSource_name, "LEAD_SOURCE_")},
		{segment.Temperatures, names(leadsv1.Temperature_name, "TEMPERATURE_")},
	} {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("segment has %v, proto %v", tt.got, tt.want)
		}
	}
}

func TestSegmentAndEnrollmentRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
	g := segment.Segment{ID: "s1", Version: 3, Name: "n", Description: "d", Object: segment.ObjectContact, Criteria: "tag has x",
		CreatedAt: at, UpdatedAt: at.Add(time.Hour)}
	if got := SegmentFromProto(SegmentToProto(g)); !reflect.DeepEqual(got, g) {
		t.Errorf("segment %+v != %+v", got, g)
	}
	e := segment.Enrollment{ID: "e", CampaignID: "c", SegmentID: "s", SegmentVersion: 2, Status: segment.EnrollmentFailed,
		Examined: 1, Added: 2, AlreadyMembers: 3, Suppressed: 4, Error: "x", StartedAt: at, FinishedAt: at.Add(time.Minute)}
	if got := EnrollmentFromProto(EnrollmentToProto(e)); !reflect.DeepEqual(got, e) {
		t.Errorf("enrollment %+v != %+v", got, e)
	}
}
