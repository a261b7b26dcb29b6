package service_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// BenchmarkRuleLatency measures a rule's latency from event to action over the real path: the
// leads service (a child process) appends LeadCreated, the campaign service's engine consumes
// it, reads the lead over gRPC, evaluates `record.country == "US"` and calls AddLeadTags, and
// the leads service appends LeadTagsAdded. The latency is from LeadCreated reaching NATS to
// LeadTagsAdded reaching NATS, as a core subscriber sees both; leads are created one at a time,
// so it is latency, not throughput. Reports p50 and p99 in milliseconds.
func BenchmarkRuleLatency(b *testing.B) {
	n := testkit.StartNATS(b)
	lp := startLeadsProcess(b, n)
	h := start(b, n, harnessOptions{LeadsAddr: lp.Addr()})
	leads := lp.leads(b)
	const tenant = "bench"
	ctx := as(b, tenant, "marketer-1")
	res, err := h.client.CreateRule(ctx, &campaignv1.CreateRuleRequest{Rule: tagRule("US leads", "LeadCreated",
		`record.country == "US"`, addTag("us-lead"))})
	require.NoError(b, err)
	_, err = h.client.GetRule(ctx, &campaignv1.GetRuleRequest{RuleId: res.GetRule().GetId(), Read: after(res.GetResult())})
	require.NoError(b, err)

	var mu sync.Mutex
	created := map[string]time.Time{}
	lat := make(chan time.Duration, 1)
	nc := n.Connect(b)
	leadID := func(subject string) string { return strings.Split(subject, ".")[3] }
	sub1, err := nc.Subscribe("crm."+tenant+".lead.*.LeadCreated", func(m *nats.Msg) {
		mu.Lock()
		created[leadID(m.Subject)] = time.Now()
		mu.Unlock()
	})
	require.NoError(b, err)
	defer sub1.Unsubscribe()
	sub2, err := nc.Subscribe("crm."+tenant+".lead.*.LeadTagsAdded", func(m *nats.Msg) {
		now := time.Now()
		mu.Lock()
		t0, ok := created[leadID(m.Subject)]
		mu.Unlock()
		if ok {
			lat <- now.Sub(t0)
		}
	})
	require.NoError(b, err)
	defer sub2.Unsubscribe()
	require.NoError(b, nc.Flush())

	lctx := as(b, tenant, "rep-1")
	create := func(i int) {
		_, err := leads.CreateLead(lctx, &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{FirstName: "Bench",
			LastName: fmt.Sprint(i), Email: fmt.Sprintf("bench%d@example.com", i), Country: "US",
			Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM}})
		require.NoError(b, err)
		select {
		case <-lat:
		case <-time.After(30 * time.Second):
			b.Fatalf("lead %d: no tag within 30s", i)
		}
	}
	for i := range 20 { // warm up: connections, caches, the read models' first batches
		create(-i - 1)
	}
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		_, err := leads.CreateLead(lctx, &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{FirstName: "Bench",
			LastName: fmt.Sprint(i), Email: fmt.Sprintf("bench%d@example.com", i), Country: "US",
			Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM}})
		require.NoError(b, err)
		select {
		case d := <-lat:
			samples = append(samples, d)
		case <-time.After(30 * time.Second):
			b.Fatalf("lead %d: no tag within 30s", i)
		}
	}
	b.StopTimer()
	slices.Sort(samples)
	q := func(p float64) float64 {
		return float64(samples[min(len(samples)-1, int(p*float64(len(samples))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
