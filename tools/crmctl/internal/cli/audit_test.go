package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/eventstore"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/tools/crmctl/internal/cli"
)

// crmctl audit lists a record's events from the log with who caused them, in order, and only
// that record's of that tenant.
func TestAudit(t *testing.T) {
	n := testkit.StartNATS(t)
	nc := n.Connect(t)
	ctx := context.Background()
	require.NoError(t, eventstore.EnsureStreams(ctx, n.JetStream(t), eventstore.StreamOptions{}))
	store, err := eventstore.New(nc, eventstore.Options{})
	require.NoError(t, err)
	as := func(typ eventsv1.ActorType, id, behalf string) context.Context {
		return eventstore.WithMetadata(ctx, eventstore.Metadata{CorrelationID: "corr-1", CausationID: "cmd-" + id,
			Actor: &eventsv1.Actor{Type: typ, Id: id, OnBehalfOf: behalf}})
	}
	lead := eventstore.Ref{Tenant: "acme", Type: "lead", ID: "L1"}
	res, err := store.Append(as(eventsv1.ActorType_ACTOR_TYPE_USER, "alice", ""), lead, eventstore.Position{},
		eventstore.Event{Payload: &leadsv1.LeadCreated{Lead: &leadsv1.Lead{Id: "L1"}}})
	require.NoError(t, err)
	res, err = store.Append(as(eventsv1.ActorType_ACTOR_TYPE_SERVICE, "leads-campaign-responses", "bob"), lead, res.Position,
		eventstore.Event{Payload: &leadsv1.LeadScored{Trigger: "engagement"}})
	require.NoError(t, err)
	_, err = store.Append(as(eventsv1.ActorType_ACTOR_TYPE_USER, "dpo", ""), lead, res.Position,
		eventstore.Event{Payload: &leadsv1.LeadErased{Reason: "DSR-1"}})
	require.NoError(t, err)
	// Noise: another record, the same id in another tenant.
	_, err = store.Append(as(eventsv1.ActorType_ACTOR_TYPE_USER, "mallory", ""), eventstore.Ref{Tenant: "acme", Type: "lead", ID: "L2"},
		eventstore.Position{}, eventstore.Event{Payload: &leadsv1.LeadCreated{}})
	require.NoError(t, err)
	_, err = store.Append(as(eventsv1.ActorType_ACTOR_TYPE_USER, "eve", ""), eventstore.Ref{Tenant: "globex", Type: "lead", ID: "L1"},
		eventstore.Position{}, eventstore.Event{Payload: &leadsv1.LeadCreated{}})
	require.NoError(t, err)

	run := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		code := cli.Execute(c, append([]string{"--nats-url", n.ClientURL(), "--tenant", "acme", "--user", "u1"}, args...), &out, &errOut)
		return out.String(), errOut.String(), code
	}

	out, stderr, code := run("audit", "L1", "-o", "json")
	require.Equal(t, 0, code, stderr)
	var got []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &e), line)
		got = append(got, e)
	}
	require.Len(t, got, 3, out)
	want := []struct{ actor, typ, event, behalf string }{
		{"alice", "user", "crm.leads.v1.LeadCreated", ""},
		{"leads-campaign-responses", "service", "crm.leads.v1.LeadScored", "bob"},
		{"dpo", "user", "crm.leads.v1.LeadErased", ""},
	}
	for i, w := range want {
		assert.Equal(t, w.actor, got[i]["actor"])
		assert.Equal(t, w.typ, got[i]["actor_type"])
		assert.Equal(t, w.event, got[i]["event_type"])
		assert.Equal(t, float64(i+1), got[i]["version"])
		assert.Equal(t, "CRM_LEADS", got[i]["stream"])
		assert.Equal(t, "cmd-"+w.actor, got[i]["causation_id"])
		if w.behalf != "" {
			assert.Equal(t, w.behalf, got[i]["on_behalf_of"])
		}
		assert.NotEmpty(t, got[i]["occurred_at"])
	}

	out, stderr, code = run("audit", "L1", "--type", "lead")
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 4, out)
	assert.Contains(t, lines[0], "ACTOR")
	assert.Contains(t, lines[2], "service:leads-campaign-responses (for bob)")
	assert.Contains(t, lines[3], "LeadErased")
	assert.NotContains(t, out, "mallory")
	assert.NotContains(t, out, "eve")

	_, stderr, code = run("audit", "nope")
	assert.NotEqual(t, 0, code)
	assert.Contains(t, stderr, "no events")
	_, _, code = run("audit", "L1", "--type", "lead.>")
	assert.NotEqual(t, 0, code, "a wildcard must not widen the filter")
}
