package service_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/metadata"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// BenchmarkEnrollSegment100k enrolls a segment of 100,000 leads (CAMPAIGN_ENROLL_BENCH_ROWS
// overrides) into a campaign: the leads are imported into the real leads service (a child
// process) with its CSV import, then one EnrollSegment call pages through them 1,000 at a time
// (tag pushed down to ListLeads, employees evaluated here) and adds every one. It reports
// members/s and the seconds of the whole enrollment. Run with -benchtime 1x.
func BenchmarkEnrollSegment100k(b *testing.B) {
	if b.N > 1 {
		b.Skip("one iteration enrolls every lead: run with -benchtime 1x")
	}
	rows := 100_000
	if v, err := strconv.Atoi(os.Getenv("CAMPAIGN_ENROLL_BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	n := testkit.StartNATS(b)
	lp := startLeadsProcess(b, n)
	h := startWithPageSize(b, n, lp.Addr(), 1000)
	md, _ := metadata.FromOutgoingContext(as(b, "acme", "marketer-1"))
	ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), md), 30*time.Minute)
	defer cancel()

	loadStart := time.Now()
	importLeads(b, ctx, leadsv1.NewDataTransferServiceClient(lp.Conn(b)), enrollBenchCSV(b, rows))
	waitLeadsReadModel(b, ctx, h, lp)
	b.Logf("loaded %d leads in %s", rows, time.Since(loadStart).Round(time.Millisecond))

	seg, err := h.client.CreateSegment(ctx, &campaignv1.CreateSegmentRequest{Segment: &campaignv1.Segment{Name: "Bench",
		Object: campaignv1.MemberType_MEMBER_TYPE_LEAD, Criteria: `tag has "bench" and employees >= 10`}})
	if err != nil {
		b.Fatal(err)
	}
	c := h.createCampaign(b, "Bench", true)
	b.ResetTimer()
	start := time.Now()
	stream, err := h.client.EnrollSegment(ctx, &campaignv1.EnrollSegmentRequest{CampaignId: c.GetId(), SegmentId: seg.GetSegment().GetId()})
	if err != nil {
		b.Fatal(err)
	}
	var last *campaignv1.Enrollment
	for {
		res, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		last = res.GetEnrollment()
	}
	el := time.Since(start)
	b.StopTimer()
	if last.GetStatus() != campaignv1.EnrollmentStatus_ENROLLMENT_STATUS_DONE || last.GetAdded() != int64(rows) {
		b.Fatalf("enrollment ended %v", last)
	}
	b.ReportMetric(float64(rows)/el.Seconds(), "members/s")
	b.ReportMetric(el.Seconds(), "s/enroll")
	b.ReportMetric(0, "ns/op")
}

// enrollBenchCSV is a CSV file of n distinct leads tagged bench.
func enrollBenchCSV(b *testing.B, n int) []byte {
	b.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"First Name", "Last Name", "Email", "Company", "Country", "Industry", "Employees", "Lead Source", "Tags"})
	for i := range n {
		_ = w.Write([]string{"First" + strconv.Itoa(i), "Last", fmt.Sprintf("enroll%d@bench.example", i), "Company " + strconv.Itoa(i%5000),
			"US", "software", strconv.Itoa(10 + i%500), "web form", "bench"})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// importLeads imports a lead CSV through DataTransferService.ImportRecords and checks every row
// was created.
func importLeads(b *testing.B, ctx context.Context, tc leadsv1.DataTransferServiceClient, data []byte) {
	b.Helper()
	stream, err := tc.ImportRecords(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := stream.Send(&leadsv1.ImportRecordsRequest{Message: &leadsv1.ImportRecordsRequest_Start{Start: &leadsv1.ImportStart{
		Object: leadsv1.TransferObject_TRANSFER_OBJECT_LEAD, DedupePolicy: leadsv1.DedupePolicy_DEDUPE_POLICY_ALLOW}}}); err != nil {
		b.Fatal(err)
	}
	for len(data) > 0 {
		n := min(1<<20, len(data))
		if err := stream.Send(&leadsv1.ImportRecordsRequest{Message: &leadsv1.ImportRecordsRequest_Chunk{Chunk: data[:n]}}); err != nil {
			break // the server answered early; Recv has its error
		}
		data = data[n:]
	}
	_ = stream.CloseSend()
	for {
		msg, err := stream.Recv()
		if err != nil {
			b.Fatal(err)
		}
		if r := msg.GetReport(); r != nil {
			if r.GetFailed() > 0 || r.GetSkipped() > 0 {
				b.Fatalf("import: %d failed, %d skipped", r.GetFailed(), r.GetSkipped())
			}
			return
		}
	}
}

// waitLeadsReadModel waits until the leads service's read model has applied all of CRM_LEADS.
func waitLeadsReadModel(b *testing.B, ctx context.Context, h *harness, lp *leadsProc) {
	b.Helper()
	js, err := jetstream.New(h.nc)
	if err != nil {
		b.Fatal(err)
	}
	s, err := js.Stream(ctx, "CRM_LEADS")
	if err != nil {
		b.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := lp.leads(b).ListLeads(ctx, &leadsv1.ListLeadsRequest{PageSize: 1,
		Read: &commonv1.ReadOptions{MinSequence: info.State.LastSeq}}); err != nil {
		b.Fatal(err)
	}
}
