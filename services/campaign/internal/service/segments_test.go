package service_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/testkit"
	campaigngrpc "github.com/evcrm/evcrm/services/campaign/internal/ports/grpc"
	"github.com/evcrm/evcrm/services/campaign/internal/service"
)

// startWithPageSize is the harness's start with a segment page size, so a few dozen leads
// make many enrollment pages.
func startWithPageSize(t testing.TB, n *testkit.NATS, leadsAddr string, pageSize int) *harness {
	t.Helper()
	nc := n.Connect(t)
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, nc, service.Options{LeadsAddr: leadsAddr, SegmentPageSize: pageSize,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for _, w := range svc.Workers() {
		wg.Go(func() { _ = w.Run(ctx) })
	}
	g := testkit.StartGRPC(t, func(s *grpcserver.Server) { campaigngrpc.Register(s, svc.App) })
	var once sync.Once
	h := &harness{nats: n, nc: nc, svc: svc, client: campaignv1.NewCampaignServiceClient(g.Conn)}
	h.stop = func() {
		once.Do(func() {
			g.Stop()
			cancel()
			wg.Wait()
			require.NoError(t, svc.Close())
		})
	}
	t.Cleanup(h.stop)
	return h
}

// segLead is a lead the segment test creates and whether the test's criteria select it.
type segLead struct {
	id           string
	selected     bool
	doNotContact bool
}

// segmentCriteria selects NEW web-form leads tagged vip but not churned with 100+ employees
// or in Germany: status, source and tag go down to ListLeads, the rest is evaluated here.
const segmentCriteria = `status in (NEW) and tag has "VIP" and tag has not "churned"
  and source in (web_form) and (employees >= 100 or country in (de))`

// createSegmentLeads creates n leads in the leads process, varied so that about a third match
// segmentCriteria (two of those do-not-contact), and waits until its read model has them.
func createSegmentLeads(t *testing.T, ctx context.Context, leads leadsv1.LeadsServiceClient, n int) []segLead {
	t.Helper()
	var out []segLead
	var last *commonv1.WriteResult
	for i := range n {
		tags := []string{}
		if i%2 == 0 {
			tags = append(tags, "vip")
		}
		if i%5 == 0 {
			tags = append(tags, "churned")
		}
		src, country := leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM, "US"
		if i%3 == 0 {
			src = leadsv1.LeadSource_LEAD_SOURCE_EVENT
		}
		if i%4 == 0 {
			country = "DE"
		}
		dnc := i == 16 || i == 22
		res, err := leads.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{FirstName: "Seg", LastName: fmt.Sprintf("Lead%03d", i),
			Email: fmt.Sprintf("seg%03d@example.com", i), Company: "Acme", Country: country, EmployeeCount: int64(i * 10),
			Source: src, Tags: tags, DoNotContact: dnc}})
		require.NoError(t, err)
		last = res.GetResult()
		qualified := i%7 == 0
		if qualified {
			r, err := leads.ChangeLeadStatus(ctx, &leadsv1.ChangeLeadStatusRequest{LeadId: res.GetLead().GetId(),
				Status: leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED})
			require.NoError(t, err)
			last = r.GetResult()
		}
		sel := !qualified && i%2 == 0 && i%5 != 0 && i%3 != 0 && (i*10 >= 100 || i%4 == 0)
		out = append(out, segLead{id: res.GetLead().GetId(), selected: sel, doNotContact: dnc})
	}
	_, err := leads.ListLeads(ctx, &leadsv1.ListLeadsRequest{PageSize: 1, Read: &commonv1.ReadOptions{MinSequence: last.GetSequence()}})
	require.NoError(t, err)
	return out
}

// memberIDs lists the campaign's members' person ids, once the read model has settled on want.
func memberIDs(t *testing.T, ctx context.Context, h *harness, campaignID string, want []string) []string {
	t.Helper()
	var got []string
	assert.Eventually(t, func() bool {
		res, err := h.client.ListMembers(ctx, &campaignv1.ListMembersRequest{CampaignId: campaignID, PageSize: 1000})
		require.NoError(t, err)
		got = got[:0]
		for _, m := range res.GetMembers() {
			got = append(got, m.GetPersonId())
		}
		sort.Strings(got)
		return strings.Join(got, ",") == strings.Join(want, ",")
	}, 10*time.Second, 50*time.Millisecond)
	return got
}

// memberAddedPerSubject counts CampaignMemberAdded events per member subject of a campaign's
// members (a member id is derived from the campaign and the person, so a duplicate add would
// show as a count of 2).
func memberAddedPerSubject(t *testing.T, h *harness) map[string]uint64 {
	t.Helper()
	js, err := jetstream.New(h.nc)
	require.NoError(t, err)
	s, err := js.Stream(context.Background(), "CRM_CAMPAIGN")
	require.NoError(t, err)
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter("crm.acme.member.*.CampaignMemberAdded"))
	require.NoError(t, err)
	return info.State.Subjects
}

// enroll runs EnrollSegment; stopAfter > 0 cancels the call after that many progress messages
// that examined records. It returns the messages received and the stream's final error.
func enroll(t *testing.T, h *harness, campaignID, segmentID string, stopAfter int) ([]*campaignv1.Enrollment, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(as(t, "acme", "marketer-1"))
	defer cancel()
	stream, err := h.client.EnrollSegment(ctx, &campaignv1.EnrollSegmentRequest{CampaignId: campaignID, SegmentId: segmentID})
	require.NoError(t, err)
	var msgs []*campaignv1.Enrollment
	pages := 0
	for {
		res, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return msgs, nil
			}
			return msgs, err
		}
		msgs = append(msgs, res.GetEnrollment())
		if res.GetEnrollment().GetExamined() > 0 {
			pages++
		}
		if stopAfter > 0 && pages == stopAfter {
			cancel()
			return msgs, context.Canceled
		}
	}
}

func TestSegmentEnrollmentInterruptedAndResumedGivesTheExactMemberSet(t *testing.T) {
	n := testkit.StartNATS(t)
	lp := startLeadsProcess(t, n)
	h := startWithPageSize(t, n, lp.Addr(), 7)
	ctx := as(t, "acme", "marketer-1")
	leads := createSegmentLeads(t, ctx, lp.leads(t), 60)
	var selected, wantMembers []string
	for _, l := range leads {
		if l.selected {
			selected = append(selected, l.id)
			if !l.doNotContact {
				wantMembers = append(wantMembers, l.id)
			}
		}
	}
	sort.Strings(selected)
	sort.Strings(wantMembers)
	require.Len(t, selected, 12, "test data")
	require.Len(t, wantMembers, 10, "test data")

	t.Run("criteria that do not parse are rejected at their position, nothing appended", func(t *testing.T) {
		before := h.streamMsgs(t)
		_, err := h.client.CreateSegment(ctx, &campaignv1.CreateSegmentRequest{Segment: &campaignv1.Segment{
			Name: "Broken", Object: campaignv1.MemberType_MEMBER_TYPE_LEAD, Criteria: `status in (NEW) and (tag has "x"`}})
		require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
		assert.Equal(t, "expected ')' at 1:33, found end of criteria", violation(t, err, "segment.criteria"))
		_, err = h.client.PreviewSegment(ctx, &campaignv1.PreviewSegmentRequest{Criteria: "status in (HOTT)", Object: campaignv1.MemberType_MEMBER_TYPE_LEAD})
		assert.Contains(t, violation(t, err, "criteria"), `unknown status "HOTT"`)
		assert.Contains(t, violation(t, err, "criteria"), "at 1:12")
		assert.Equal(t, before, h.streamMsgs(t))
	})

	seg, err := h.client.CreateSegment(ctx, &campaignv1.CreateSegmentRequest{Segment: &campaignv1.Segment{
		Name: "VIP prospects", Object: campaignv1.MemberType_MEMBER_TYPE_LEAD, Criteria: segmentCriteria}})
	require.NoError(t, err)
	segID := seg.GetSegment().GetId()

	t.Run("names are unique ignoring case", func(t *testing.T) {
		_, err := h.client.CreateSegment(ctx, &campaignv1.CreateSegmentRequest{Segment: &campaignv1.Segment{
			Name: "vip PROSPECTS", Object: campaignv1.MemberType_MEMBER_TYPE_LEAD, Criteria: "tag has x"}})
		require.Equal(t, codes.AlreadyExists, status.Code(err), "%v", err)
		list, err := h.client.ListSegments(ctx, &campaignv1.ListSegmentsRequest{Read: after(seg.GetResult())})
		require.NoError(t, err)
		require.Len(t, list.GetSegments(), 1)
		assert.Equal(t, segID, list.GetSegments()[0].GetId())
	})

	t.Run("preview counts exactly", func(t *testing.T) {
		p, err := h.client.PreviewSegment(ctx, &campaignv1.PreviewSegmentRequest{SegmentId: segID, SampleSize: 4})
		require.NoError(t, err)
		assert.EqualValues(t, len(selected), p.GetCount())
		require.Len(t, p.GetSampleIds(), 4)
		for _, id := range p.GetSampleIds() {
			assert.Contains(t, selected, id)
		}
	})

	t.Run("cancelled after the first page, resumed", func(t *testing.T) {
		c := h.createCampaign(t, "Spring VIP", true)
		msgs, err := enroll(t, h, c.GetId(), segID, 1)
		require.ErrorIs(t, err, context.Canceled)
		first := msgs[len(msgs)-1]
		assert.Equal(t, campaignv1.EnrollmentStatus_ENROLLMENT_STATUS_RUNNING, first.GetStatus())
		assert.EqualValues(t, 7, first.GetExamined())

		time.Sleep(200 * time.Millisecond) // let the server notice the cancellation
		msgs, err = enroll(t, h, c.GetId(), segID, 0)
		require.NoError(t, err)
		done := msgs[len(msgs)-1]
		require.Equal(t, campaignv1.EnrollmentStatus_ENROLLMENT_STATUS_DONE, done.GetStatus(), "%v", done)
		assert.Equal(t, first.GetId(), done.GetId(), "the same enrollment resumed")
		assert.EqualValues(t, 2, done.GetSuppressed())
		assert.EqualValues(t, len(wantMembers), done.GetAdded()+done.GetAlreadyMembers())
		assert.Equal(t, wantMembers, memberIDs(t, ctx, h, c.GetId(), wantMembers))
	})

	t.Run("leads killed midway, restarted, resumed", func(t *testing.T) {
		c := h.createCampaign(t, "Summer VIP", true)
		stream, err := h.client.EnrollSegment(ctx, &campaignv1.EnrollSegmentRequest{CampaignId: c.GetId(), SegmentId: segID})
		require.NoError(t, err)
		for {
			res, err := stream.Recv()
			require.NoError(t, err)
			if res.GetEnrollment().GetExamined() > 0 {
				break
			}
		}
		lp.Kill()
		var last error
		for last == nil {
			_, last = stream.Recv()
		}
		if !errors.Is(last, io.EOF) { // the run may have finished its pages before the kill landed
			assert.Equal(t, codes.Unavailable, status.Code(last), "%v", last)
		}
		lp.Restart(t)
		// The campaign's connection to leads reconnects with backoff: a call that still finds
		// it down fails Unavailable, and the caller calls again.
		var msgs []*campaignv1.Enrollment
		deadline := time.Now().Add(30 * time.Second)
		for {
			msgs, err = enroll(t, h, c.GetId(), segID, 0)
			if status.Code(err) != codes.Unavailable || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		require.NoError(t, err)
		done := msgs[len(msgs)-1]
		require.Equal(t, campaignv1.EnrollmentStatus_ENROLLMENT_STATUS_DONE, done.GetStatus(), "%v", done)
		assert.Equal(t, wantMembers, memberIDs(t, ctx, h, c.GetId(), wantMembers))
	})

	t.Run("no member was added twice", func(t *testing.T) {
		subjects := memberAddedPerSubject(t, h)
		assert.Len(t, subjects, 2*len(wantMembers))
		for subj, n := range subjects {
			assert.EqualValues(t, 1, n, subj)
		}
	})

	t.Run("a finished enrollment called again adds nothing new", func(t *testing.T) {
		before := len(memberAddedPerSubject(t, h))
		list, err := h.client.ListCampaigns(ctx, &campaignv1.ListCampaignsRequest{})
		require.NoError(t, err)
		for _, c := range list.GetCampaigns() {
			msgs, err := enroll(t, h, c.GetId(), segID, 0)
			require.NoError(t, err)
			done := msgs[len(msgs)-1]
			assert.EqualValues(t, 0, done.GetAdded())
			assert.EqualValues(t, len(wantMembers), done.GetAlreadyMembers())
		}
		assert.Equal(t, before, len(memberAddedPerSubject(t, h)))
	})
}

// violation returns the description of err's field violation on field ("" when none).
func violation(t *testing.T, err error, field string) string {
	t.Helper()
	st, ok := status.FromError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, codes.InvalidArgument, st.Code(), "%v", err)
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if v.GetField() == field {
					return v.GetDescription()
				}
			}
		}
	}
	t.Fatalf("no violation on %s in %v", field, err)
	return ""
}
