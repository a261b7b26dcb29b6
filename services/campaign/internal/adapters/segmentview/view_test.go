package segmentview_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/segmentview"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/segment"
)

func event(t *testing.T, seq uint64, tenant, id string, e segment.Event) projection.Event {
	t.Helper()
	msg, err := protomap.SegmentCodec{}.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := proto.Marshal(msg)
	return projection.Event{Stream: segmentview.Stream, Sequence: seq, Envelope: &eventsv1.Envelope{TenantId: tenant,
		AggregateType: segment.AggregateType, AggregateId: id, EventType: string(proto.MessageName(msg)), Payload: b}}
}

func TestListPagesByNameSkipsDeletedAndOtherTenants(t *testing.T) {
	t.Parallel()
	v := segmentview.New(protomap.SegmentCodec{})
	at := time.Now()
	var evs []projection.Event
	for i, name := range []string{"delta", "Alpha", "charlie", "bravo", "echo"} {
		id := fmt.Sprintf("s%d", i)
		evs = append(evs, event(t, uint64(len(evs)+1), "acme", id, segment.SegmentSaved{Segment: segment.Segment{ID: id, Name: name, Object: segment.ObjectLead, Criteria: "score > 1"}, At: at}))
	}
	evs = append(evs, event(t, uint64(len(evs)+1), "acme", "s4", segment.SegmentDeleted{At: at}))
	evs = append(evs, event(t, uint64(len(evs)+1), "other", "x", segment.SegmentSaved{Segment: segment.Segment{ID: "x", Name: "aaa"}, At: at}))
	if err := v.Handle(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := v.WaitFor(ctx, uint64(len(evs))); err != nil {
		t.Fatal(err)
	}
	var names []string
	token := ""
	for {
		page, next, err := v.List(context.Background(), "acme", 3, token)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range page {
			names = append(names, g.Name)
		}
		if next == "" {
			break
		}
		token = next
	}
	if fmt.Sprint(names) != "[Alpha bravo charlie delta]" {
		t.Fatalf("names %v", names)
	}
	if g, ok, _ := v.ByName(context.Background(), "acme", "ALPHA"); !ok || g.ID != "s1" {
		t.Fatalf("ByName = %v %v", g, ok)
	}
	if _, ok, _ := v.ByName(context.Background(), "acme", "echo"); ok {
		t.Fatal("a deleted segment keeps its name")
	}
	if _, _, err := v.List(context.Background(), "other", 3, token); err == nil && token != "" {
		t.Fatal("a token of another tenant's list is accepted")
	}
}
