package service_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/evcrm/evcrm/libs/eventstore"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/testkit"
)

// TestFaultNATSRestartUnderCommandLoad is issue 11's NATS restart fault test.
//
// Fault: the JetStream server is restarted (shut down, started again on the same port and store
// directory) while commands run; by default once, with -soak (EVCRM_SOAK=1) five times.
//
// Load: 8 clients, each sending RecordEngagement commands to its own lead through the real gRPC
// stack, back to back, every command with its own idempotency key and correlation id. A
// RecordEngagement decides an atomic batch (EngagementRecorded, LeadScored, sometimes an
// automatic LeadStatusChanged). A command that fails is retried with the same key until it
// succeeds, as a client should.
//
// Invariants: the service reconnects by itself (commands succeed again after each restart and
// its read model catches up); every command that got an OK is in the stream after the restarts,
// with the version and sequence it was answered with; every command's events are one
// contiguous, complete batch on its lead — none half-applied, none applied twice (a retry of a
// command whose first attempt failed in flight either finds its earlier outcome or applies it
// once); the leads' histories hold nothing else.
func TestFaultNATSRestartUnderCommandLoad(t *testing.T) {
	t.Parallel()
	restarts := 1
	if testkit.Soak() {
		restarts = 5
	}
	n := testkit.StartNATS(t)
	h := start(t, n, "")
	base := as(t, "acme", "rep-1")

	const clients = 8
	ids := make([]string, clients)
	for c := range clients {
		res, err := h.client.CreateLead(base, &leadsv1.CreateLeadRequest{Lead: newLead(fmt.Sprintf("fault%d@example.com", c))})
		require.NoError(t, err)
		ids[c] = res.GetLead().GetId()
	}

	// outcome is what a client was told about one command.
	type outcome struct {
		correlation string
		version     uint64
		sequence    uint64
		replayed    bool
		failedFirst bool // an attempt failed before the OK
	}
	outcomes := make([][]outcome, clients)
	var oks, failedAttempts atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	halt := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer halt()
	for c := range clients {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				cid := fmt.Sprintf("fault-%d-%d", c, i)
				o := outcome{correlation: cid}
				for attempt := 0; ; attempt++ {
					ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(base,
						grpcserver.MetadataCorrelationID, cid), 5*time.Second)
					res, err := h.client.RecordEngagement(ctx, &leadsv1.RecordEngagementRequest{LeadId: ids[c],
						Signal: leadsv1.EngagementSignal_ENGAGEMENT_SIGNAL_WEB_VISIT, OccurredAt: timestamppb.Now(),
						Options: &commonv1.WriteOptions{IdempotencyKey: cid}})
					cancel()
					if err == nil {
						r := res.GetResult()
						o.version, o.sequence, o.replayed = r.GetVersion(), r.GetSequence(), r.GetReplayed()
						break
					}
					o.failedFirst = true
					failedAttempts.Add(1)
					if attempt > 200 {
						t.Errorf("%s: still failing after %d attempts: %v", cid, attempt, err)
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
				outcomes[c] = append(outcomes[c], o)
				oks.Add(1)
			}
		})
	}

	progress := func(what string) {
		t.Helper()
		from, start := oks.Load(), time.Now()
		deadline := start.Add(60 * time.Second)
		for oks.Load() < from+100 {
			if time.Now().After(deadline) || t.Failed() {
				t.Fatalf("%s: commands did not succeed again (%d OK)", what, oks.Load())
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("%s: 100 more OKs in %v (%d OK, %d failed attempts)", what, time.Since(start).Round(time.Millisecond),
			oks.Load(), failedAttempts.Load())
	}
	progress("before the restart")
	for r := range restarts {
		n.Restart(t)
		progress(fmt.Sprintf("after restart %d", r+1))
	}
	halt()

	// Every OK is in the stream as answered; each command is one complete batch.
	st, err := eventstore.New(n.Connect(t), eventstore.Options{})
	require.NoError(t, err)
	var last uint64
	for c := range clients {
		recs, _, err := st.Load(base, eventstore.Ref{Tenant: "acme", Type: "lead", ID: ids[c]})
		require.NoError(t, err)
		// Versions are 1..n (Load checks that); group them by correlation id.
		first, lastOf := map[string]int{}, map[string]int{}
		for i, r := range recs {
			cid := r.Envelope.GetCorrelationId()
			if _, ok := first[cid]; !ok {
				first[cid] = i
			} else if lastOf[cid] != i-1 {
				t.Errorf("lead %d: command %s's events are not contiguous (versions %d and %d)", c, cid, lastOf[cid]+1, i+1)
			}
			lastOf[cid] = i
			last = max(last, r.Sequence)
		}
		seen := map[string]bool{}
		for _, o := range outcomes[c] {
			seen[o.correlation] = true
			i, ok := first[o.correlation]
			if !ok {
				t.Errorf("lead %d: acknowledged command %s (version %d) is not in the stream", c, o.correlation, o.version)
				continue
			}
			end := recs[lastOf[o.correlation]]
			if end.Envelope.GetAggregateVersion() != o.version || end.Sequence != o.sequence {
				t.Errorf("lead %d: command %s answered version %d seq %d, stored up to version %d seq %d (half-applied?)",
					c, o.correlation, o.version, o.sequence, end.Envelope.GetAggregateVersion(), end.Sequence)
			}
			if typ := recs[i].Envelope.GetEventType(); typ != "crm.leads.v1.EngagementRecorded" {
				t.Errorf("lead %d: command %s starts with %s", c, o.correlation, typ)
			}
			if o.replayed && !o.failedFirst {
				t.Errorf("lead %d: command %s replayed without an earlier attempt", c, o.correlation)
			}
		}
		// Nothing else: the creation and the commands, each once.
		for cid := range first {
			if !seen[cid] && recs[first[cid]].Envelope.GetEventType() != "crm.leads.v1.LeadCreated" {
				t.Errorf("lead %d: events of an unknown command %s", c, cid)
			}
		}
	}

	// The read model's consumer reconnected too: it answers at the last sequence.
	ctx, cancel := context.WithTimeout(base, 30*time.Second)
	defer cancel()
	list, err := h.client.ListLeads(ctx, &leadsv1.ListLeadsRequest{PageSize: 100, Read: &commonv1.ReadOptions{MinSequence: last}})
	require.NoError(t, err)
	require.Len(t, list.GetLeads(), clients)
	t.Logf("%d commands acknowledged, %d attempts failed across %d restarts", oks.Load(), failedAttempts.Load(), restarts)
}
