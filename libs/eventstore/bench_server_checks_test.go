package eventstore_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
)

// BenchmarkServerCheckCost isolates what JetStream's own checks cost, with no event store code:
// raw publishes with a Nats-Msg-Id (dedupe), and with a Nats-Msg-Id plus the expected last
// subject sequence on a wildcard (the concurrency check), against plain publishes, 64 writers.
// The ratios bound what any event store on these features can reach against a plain publish.
func BenchmarkServerCheckCost(b *testing.B) {
	_, js := benchServer(b, false)
	ctx := context.Background()
	body, _ := proto.Marshal(&eventsv1.Envelope{EventType: "google.protobuf.StringValue", Payload: mustMarshal(payload())})
	const writers = 64
	seqs := make([]uint64, writers)
	var plain, withID, withSeq time.Duration
	for r := range 3 {
		plain += runWriters(b, writers, b.N, func(w, i int) error {
			_, err := js.Publish(ctx, fmt.Sprintf("crm.bench.lead.p%d-%d-%d.X", r, w, i), body)
			return err
		})
		withID += runWriters(b, writers, b.N, func(w, i int) error {
			m := nats.NewMsg(fmt.Sprintf("crm.bench.lead.i%d-%d-%d.X", r, w, i))
			m.Data = body
			m.Header.Set(jetstream.MsgIDHeader, uuid.NewString())
			_, err := js.PublishMsg(ctx, m)
			return err
		})
		withSeq += runWriters(b, writers, b.N, func(w, i int) error {
			m := nats.NewMsg(fmt.Sprintf("crm.bench.lead.s%d.X", w))
			m.Data = body
			m.Header.Set(jetstream.MsgIDHeader, uuid.NewString())
			m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(seqs[w], 10))
			m.Header.Set("Nats-Expected-Last-Subject-Sequence-Subject", fmt.Sprintf("crm.bench.lead.s%d.*", w))
			a, err := js.PublishMsg(ctx, m)
			if err == nil {
				seqs[w] = a.Sequence
			}
			return err
		})
	}
	b.ReportMetric(plain.Seconds()/withID.Seconds(), "id/plain")
	b.ReportMetric(plain.Seconds()/withSeq.Seconds(), "id+seq/plain")
}
