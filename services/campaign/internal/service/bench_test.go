package service_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/benchkit"
	"github.com/evcrm/evcrm/libs/eventstore"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/libs/uuid7"
)

// BenchmarkRecordResponses streams b.N responses over gRPC to RecordResponses in batches of
// 10,000 (an email platform's bulk report: sent, opened, clicked spread over the campaign's
// members, each batch with its own id so every response carries an idempotency key), and in
// the same run publishes the same number of CampaignMemberResponded envelopes with raw
// JetStream async publish to a stream of the same configuration. Reports both rates and their
// ratio. CAMPAIGN_BENCH_MEMBERS sets how many members share the responses (default 20,000).
func BenchmarkRecordResponses(b *testing.B) {
	const batchSize = 10_000
	members := 20_000
	if s := os.Getenv("CAMPAIGN_BENCH_MEMBERS"); s != "" {
		members, _ = strconv.Atoi(s)
	}
	n := testkit.StartNATS(b)
	h := start(b, n, harnessOptions{DataDir: b.TempDir()})
	js, err := jetstream.New(h.nc)
	if err != nil {
		b.Fatal(err)
	}
	rawCfg := eventstore.StreamConfig(eventstore.StreamSpec{Name: "BENCH_RAW", AggregateTypes: []string{"member"}}, eventstore.StreamOptions{})
	rawCfg.Subjects = []string{"bench.>"}
	if _, err := js.CreateStream(context.Background(), rawCfg); err != nil {
		b.Fatal(err)
	}
	c := h.createCampaign(b, "Bench", true)
	addPeople(b, h, c.GetId(), members)
	// Let the read model catch up with the adds, so the timed part measures the responses and
	// the projector's share of them, not a backlog of adds.
	if _, err := h.client.GetCampaign(as(b, "acme", "marketer-1"), &campaignv1.GetCampaignRequest{CampaignId: c.GetId(),
		Read: &commonv1.ReadOptions{MinSequence: h.streamMsgs(b)}}); err != nil {
		b.Fatal(err)
	}
	// Longer than testkit.As's 30 s: a slow machine may need it for b.N responses.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, grpcauth.MetadataTenant, "acme", grpcauth.MetadataUser, "marketer-1")
	statuses := []string{"sent", "opened", "clicked"}
	var batches []*campaignv1.RecordResponsesRequest
	for i := 0; i < b.N; i += batchSize {
		req := &campaignv1.RecordResponsesRequest{BatchId: uuid7.New()}
		for j := i; j < min(b.N, i+batchSize); j++ {
			req.Responses = append(req.Responses, &campaignv1.Response{CampaignId: c.GetId(), MemberType: lead,
				PersonId: fmt.Sprintf("lead-%d", j%members), Status: statuses[(j/members)%len(statuses)],
				OccurredAt: timestamppb.Now(), Metadata: map[string]string{"message_id": strconv.Itoa(j)}})
		}
		batches = append(batches, req)
	}
	// The raw side publishes what the event store would: an envelope around the payload.
	raw := make([][]byte, 0, b.N)
	for _, req := range batches {
		for _, r := range req.GetResponses() {
			p, _ := proto.Marshal(&campaignv1.CampaignMemberResponded{CampaignId: r.GetCampaignId(), MemberType: r.GetMemberType(),
				PersonId: r.GetPersonId(), Status: r.GetStatus(), Kind: campaignv1.ResponseKind_RESPONSE_KIND_SENT, OccurredAt: r.GetOccurredAt(),
				Metadata: r.GetMetadata(), Channel: campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_EMAIL})
			env, _ := proto.Marshal(&eventsv1.Envelope{EventId: uuid7.New(), TenantId: "acme", AggregateType: "member", AggregateId: r.GetPersonId(),
				AggregateVersion: 2, EventType: "crm.campaign.v1.CampaignMemberResponded", OccurredAt: r.GetOccurredAt(), Payload: p})
			raw = append(raw, env)
		}
	}

	b.ResetTimer()
	t0 := time.Now()
	const window = 4096
	var pending []jetstream.PubAckFuture
	for i, body := range raw {
		f, err := js.PublishAsync(fmt.Sprintf("bench.acme.member.m%d.CampaignMemberResponded", i%members), body)
		if err != nil {
			b.Fatal(err)
		}
		pending = append(pending, f)
		if len(pending) >= window {
			<-js.PublishAsyncComplete()
			pending = pending[:0]
		}
	}
	<-js.PublishAsyncComplete()
	rawDur := time.Since(t0)

	t1 := time.Now()
	res := sendBatches(b, ctx, h, batches)
	dur := time.Since(t1)
	b.StopTimer()
	if res.GetAccepted() != int64(b.N) {
		b.Fatalf("accepted %d of %d (rejected %d, duplicates %d, errors %v)", res.GetAccepted(), b.N, res.GetRejected(), res.GetDuplicates(), res.GetErrors())
	}
	b.ReportMetric(float64(b.N)/dur.Seconds(), "responses/s")
	b.ReportMetric(float64(b.N)/rawDur.Seconds(), "raw/s")
	b.ReportMetric(rawDur.Seconds()/dur.Seconds(), "responses/raw")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkCommandPath is the command-path scenario (docs/benchmarks.md) for RecordResponse:
// 1, 16 and 64 concurrent gRPC clients, each recording responses (sent, opened, clicked in
// turn) of a campaign member of its own, one call per response, every worker running; next to
// raw synchronous JetStream publishes and PostgreSQL event-store appends (each client on its
// member, version after version) of the same CampaignMemberResponded envelope, with each fsync
// mode (see benchkit.Durabilities).
func BenchmarkCommandPath(b *testing.B) {
	body, typ := benchkit.Envelope("member", &campaignv1.CampaignMemberResponded{CampaignId: uuid7.New(), MemberType: lead,
		PersonId: "lead-1", Status: "opened", Kind: campaignv1.ResponseKind_RESPONSE_KIND_SENT, OccurredAt: timestamppb.Now(),
		Metadata: map[string]string{"message_id": "1"}, Channel: campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_EMAIL})
	b.Run("RecordResponse", func(b *testing.B) {
		benchkit.RunCommandPath(b, benchkit.CommandPath{AggregateType: "member", EventType: typ, Payload: body,
			Start: func(b *testing.B, n *testkit.NATS, clients int) func(c, i int) error {
				h := start(b, n, harnessOptions{DataDir: b.TempDir()})
				c := h.createCampaign(b, "Bench", true)
				addPeople(b, h, c.GetId(), clients)
				ctx := testkit.AsFor(b, time.Hour, "acme", "marketer-1")
				statuses := []string{"sent", "opened", "clicked"}
				return func(client, i int) error {
					_, err := h.client.RecordResponse(ctx, &campaignv1.RecordResponseRequest{Response: &campaignv1.Response{
						CampaignId: c.GetId(), MemberType: lead, PersonId: fmt.Sprintf("lead-%d", client), Status: statuses[i%len(statuses)],
						OccurredAt: timestamppb.Now(), Metadata: map[string]string{"message_id": strconv.Itoa(i)}}})
					return err
				}
			}})
	})
}
