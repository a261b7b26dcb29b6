package natsperm_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/eventstore"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/natsperm"
)

// seeded starts a server whose event streams hold one lead event of each of tenants "a" and
// "b", appended by the admin, and returns the admin's connection.
func seeded(t *testing.T, integrationTenants ...string) (string, *client) {
	t.Helper()
	url := startServer(t, integrationTenants...)
	admin := connect(t, url, adminUser)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := eventstore.EnsureStreams(ctx, admin.js, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	store, err := eventstore.New(admin.nc, eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tenant := range []string{"a", "b"} {
		if _, err := store.Append(ctx, eventstore.Ref{Tenant: tenant, Type: "lead", ID: "l1"}, eventstore.Position{},
			eventstore.Event{Payload: &leadsv1.LeadCreated{}}); err != nil {
			t.Fatal(err)
		}
	}
	return url, admin
}

func messages(t *testing.T, admin *client, stream string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := admin.js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// TestServiceUsersCannotReachOthers: each call crosses a boundary of the table; the server must
// refuse it (a permissions violation for the exact subject) and the stream must be unchanged.
func TestServiceUsersCannotReachOthers(t *testing.T) {
	url, admin := seeded(t)
	leads := connect(t, url, "leads")
	pipeline := connect(t, url, "pipeline")
	campaign := connect(t, url, "campaign")
	analytics := connect(t, url, "analytics")
	before := map[string]uint64{}
	for _, st := range eventstore.DefaultStreams() {
		before[st.Name] = messages(t, admin, st.Name)
	}

	request := func(c *client, subject string, body []byte) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := c.nc.RequestWithContext(ctx, subject, body)
			return err
		}
	}
	cases := []struct {
		name    string
		c       *client
		kind    string // "publish" or "subscription"
		subject string
		call    func(context.Context) error
	}{
		{"pipeline publishes a lead event", pipeline, "publish", "crm.a.lead.x.LeadCreated",
			request(pipeline, "crm.a.lead.x.LeadCreated", []byte("forged"))},
		{"pipeline appends to a lead through the event store", pipeline, "publish", "crm.a.lead.x.LeadCreated",
			func(ctx context.Context) error {
				store, err := eventstore.New(pipeline.nc, eventstore.Options{})
				if err != nil {
					return err
				}
				_, err = store.Append(ctx, eventstore.Ref{Tenant: "a", Type: "lead", ID: "x"}, eventstore.Position{},
					eventstore.Event{Payload: &leadsv1.LeadCreated{}})
				return err
			}},
		{"analytics publishes an opportunity event", analytics, "publish", "crm.a.opportunity.o.OpportunityCreated",
			request(analytics, "crm.a.opportunity.o.OpportunityCreated", []byte("forged"))},
		{"leads publishes a campaign event", leads, "publish", "crm.a.campaign.c.CampaignCreated",
			request(leads, "crm.a.campaign.c.CampaignCreated", []byte("forged"))},
		{"campaign publishes a task event", campaign, "publish", "crm.a.task.t.TaskCreated",
			request(campaign, "crm.a.task.t.TaskCreated", []byte("forged"))},
		{"pipeline creates a consumer on CRM_LEADS", pipeline, "publish", "$JS.API.CONSUMER.CREATE.CRM_LEADS.snoop",
			func(ctx context.Context) error {
				_, err := pipeline.js.CreateConsumer(ctx, "CRM_LEADS", jetstream.ConsumerConfig{Name: "snoop", AckPolicy: jetstream.AckNonePolicy})
				return err
			}},
		{"pipeline reads a lead with a direct get", pipeline, "publish", "$JS.API.DIRECT.GET.CRM_LEADS.crm.a.lead.l1.*",
			request(pipeline, "$JS.API.DIRECT.GET.CRM_LEADS.crm.a.lead.l1.*", nil)},
		{"leads deletes CRM_PIPELINE", leads, "publish", "$JS.API.STREAM.DELETE.CRM_PIPELINE",
			func(ctx context.Context) error { return leads.js.DeleteStream(ctx, "CRM_PIPELINE") }},
		{"leads deletes its own stream", leads, "publish", "$JS.API.STREAM.DELETE.CRM_LEADS",
			func(ctx context.Context) error { return leads.js.DeleteStream(ctx, "CRM_LEADS") }},
		{"leads purges its own stream", leads, "publish", "$JS.API.STREAM.PURGE.CRM_LEADS",
			request(leads, "$JS.API.STREAM.PURGE.CRM_LEADS", []byte("{}"))},
		{"analytics rewrites CRM_LEADS", analytics, "publish", "$JS.API.STREAM.UPDATE.CRM_LEADS",
			func(ctx context.Context) error {
				cfg := eventstore.StreamConfig(eventstore.LeadsStream, eventstore.StreamOptions{})
				cfg.Subjects = append(cfg.Subjects, "crm.*.opportunity.>")
				_, err := analytics.js.UpdateStream(ctx, cfg)
				return err
			}},
		{"campaign opens the analytics lock bucket", campaign, "publish", "$JS.API.STREAM.INFO.KV_ANALYTICS_LOCKS",
			func(ctx context.Context) error { _, err := campaign.js.KeyValue(ctx, "ANALYTICS_LOCKS"); return err }},
		{"pipeline writes a lead uniqueness key", pipeline, "publish", "$KV.CRM_LEAD_KEYS.a.k",
			request(pipeline, "$KV.CRM_LEAD_KEYS.a.k", []byte("x"))},
		{"pipeline fetches from the leads service's consumer on CRM_CAMPAIGN", pipeline, "publish", "$JS.API.CONSUMER.MSG.NEXT.CRM_CAMPAIGN.leads-campaign-reactions",
			request(pipeline, "$JS.API.CONSUMER.MSG.NEXT.CRM_CAMPAIGN.leads-campaign-reactions", []byte(`{"batch":1}`))},
		{"pipeline acks on the leads service's consumer", pipeline, "publish", "$JS.ACK.CRM_CAMPAIGN.leads-campaign-reactions.1.1.1.1.0",
			request(pipeline, "$JS.ACK.CRM_CAMPAIGN.leads-campaign-reactions.1.1.1.1.0", nil)},
		{"leads subscribes to the raw event subjects", leads, "subscription", "crm.>",
			func(context.Context) error {
				sub, err := leads.nc.SubscribeSync("crm.>")
				if err != nil {
					return err
				}
				_, err = sub.NextMsg(500 * time.Millisecond)
				return err
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(short(t)); err == nil {
				t.Fatalf("allowed")
			}
			if !tc.c.sawViolation(tc.kind, tc.subject) {
				t.Errorf("no permissions violation for %s to %q", tc.kind, tc.subject)
			}
		})
	}
	for _, st := range eventstore.DefaultStreams() {
		if got := messages(t, admin, st.Name); got != before[st.Name] {
			t.Errorf("%s holds %d messages, %d before the attempts", st.Name, got, before[st.Name])
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := admin.js.Stream(ctx, "CRM_LEADS")
	if err != nil {
		t.Fatal(err)
	}
	if subj := st.CachedInfo().Config.Subjects; len(subj) != len(eventstore.LeadsStream.AggregateTypes) {
		t.Errorf("CRM_LEADS subjects changed: %v", subj)
	}
}

// TestIntegrationUserReadsOnlyItsTenant: tenant a's integration user reads crm.a.> through its
// consumer with the ordinary nats.go calls and reaches tenant b's events, or the services'
// consumers, by no route.
func TestIntegrationUserReadsOnlyItsTenant(t *testing.T) {
	url, admin := seeded(t, "a", "b")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A services' consumer that reads every tenant: the integration must neither read through it
	// nor narrow it to its own tenant (which would starve the projection of everyone else's).
	if _, err := admin.js.CreateConsumer(ctx, "CRM_LEADS", jetstream.ConsumerConfig{Durable: "leads-view", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}

	a := connect(t, url, "integration-a", nats.CustomInboxPrefix(natsperm.IntegrationInbox("a")))
	cons, err := a.js.CreateOrUpdateConsumer(ctx, "CRM_LEADS", jetstream.ConsumerConfig{
		Durable: natsperm.IntegrationConsumer("a"), FilterSubject: "crm.a.>", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatalf("integration a: create its consumer: %v", err)
	}
	batch, err := cons.Fetch(10, jetstream.FetchMaxWait(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for m := range batch.Messages() {
		got = append(got, m.Subject())
		if err := m.DoubleAck(ctx); err != nil {
			t.Errorf("integration a: ack: %v", err)
		}
	}
	if len(got) != 1 || got[0] != "crm.a.lead.l1.LeadCreated" {
		t.Errorf("integration a received %v", got)
	}
	if _, err := cons.Info(ctx); err != nil {
		t.Errorf("integration a: info of its consumer: %v", err)
	}

	// Push delivery to its own subjects works too.
	sub, err := a.nc.SubscribeSync(natsperm.IntegrationPrefix("a") + ".events")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.js.CreateOrUpdateConsumer(ctx, "CRM_PIPELINE", jetstream.ConsumerConfig{
		Durable: natsperm.IntegrationConsumer("a"), FilterSubject: "crm.a.>", DeliverSubject: natsperm.IntegrationPrefix("a") + ".events",
		AckPolicy: jetstream.AckNonePolicy}); err != nil {
		t.Fatalf("integration a: push consumer: %v", err)
	}
	if m, err := sub.NextMsg(300 * time.Millisecond); err == nil {
		t.Errorf("integration a received %s from an empty pipeline stream", m.Subject)
	}

	// The server holds the configuration to the subject: a filter of tenant b behind a crm.a.>
	// subject, or several filters, are refused.
	for _, cfg := range []map[string]any{
		{"durable_name": "integration-a", "name": "integration-a", "filter_subject": "crm.b.>", "ack_policy": "explicit"},
		{"durable_name": "integration-a", "name": "integration-a", "filter_subjects": []string{"crm.a.>", "crm.b.>"}, "ack_policy": "explicit"},
		{"durable_name": "leads-view", "name": "leads-view", "filter_subject": "crm.a.>", "ack_policy": "explicit"},
	} {
		req, _ := json.Marshal(map[string]any{"stream_name": "CRM_CAMPAIGN", "config": cfg})
		msg, err := a.nc.RequestWithContext(ctx, "$JS.API.CONSUMER.CREATE.CRM_CAMPAIGN.integration-a.crm.a.>", req)
		if err != nil {
			t.Fatal(err)
		}
		var resp struct {
			Error *jetstream.APIError `json:"error"`
		}
		if err := json.Unmarshal(msg.Data, &resp); err != nil || resp.Error == nil {
			t.Errorf("consumer %v created behind a crm.a.> subject: %s", cfg, msg.Data)
		}
	}

	other := func(name, filter string) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := a.js.CreateOrUpdateConsumer(ctx, "CRM_LEADS", jetstream.ConsumerConfig{Durable: name, FilterSubject: filter, AckPolicy: jetstream.AckExplicitPolicy})
			return err
		}
	}
	denied := []struct {
		name, kind, subject string
		call                func(context.Context) error
	}{
		{"its consumer on tenant b", "publish", "$JS.API.CONSUMER.CREATE.CRM_LEADS.integration-a.crm.b.>", other("integration-a", "crm.b.>")},
		{"its consumer on every tenant", "publish", "$JS.API.CONSUMER.CREATE.CRM_LEADS.integration-a.crm.*.>", other("integration-a", "crm.*.>")},
		{"another consumer name", "publish", "$JS.API.CONSUMER.CREATE.CRM_LEADS.a-feed.crm.a.>", other("a-feed", "crm.a.>")},
		{"narrowing the services' consumer to tenant a", "publish", "$JS.API.CONSUMER.CREATE.CRM_LEADS.leads-view.crm.a.>", other("leads-view", "crm.a.>")},
		{"tenant b's integration consumer", "publish", "$JS.API.CONSUMER.CREATE.CRM_LEADS.integration-b.crm.a.>", other("integration-b", "crm.a.>")},
		{"fetch from the services' consumer", "publish", "$JS.API.CONSUMER.MSG.NEXT.CRM_LEADS.leads-view", func(ctx context.Context) error {
			_, err := a.nc.RequestWithContext(ctx, "$JS.API.CONSUMER.MSG.NEXT.CRM_LEADS.leads-view", []byte(`{"batch":1}`))
			return err
		}},
		{"delete the services' consumer", "publish", "$JS.API.CONSUMER.DELETE.CRM_LEADS.leads-view", func(ctx context.Context) error {
			return a.js.DeleteConsumer(ctx, "CRM_LEADS", "leads-view")
		}},
		{"direct get of a tenant b event", "publish", "$JS.API.DIRECT.GET.CRM_LEADS.crm.b.lead.l1.*", func(ctx context.Context) error {
			_, err := a.nc.RequestWithContext(ctx, "$JS.API.DIRECT.GET.CRM_LEADS.crm.b.lead.l1.*", nil)
			return err
		}},
		{"stream info", "publish", "$JS.API.STREAM.INFO.CRM_LEADS", func(ctx context.Context) error {
			_, err := a.js.Stream(ctx, "CRM_LEADS")
			return err
		}},
		{"publish into tenant a", "publish", "crm.a.lead.x.LeadCreated", func(ctx context.Context) error {
			_, err := a.nc.RequestWithContext(ctx, "crm.a.lead.x.LeadCreated", []byte("forged"))
			return err
		}},
		{"subscribe to tenant b's subjects", "subscription", "crm.b.>", subscribe(a, "crm.b.>")},
		{"subscribe to the services' inboxes", "subscription", "_INBOX.>", subscribe(a, "_INBOX.>")},
		{"subscribe to tenant b's integration subjects", "subscription", "integration.b.>", subscribe(a, "integration.b.>")},
	}
	for _, tc := range denied {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(short(t)); err == nil {
				t.Fatalf("allowed")
			}
			if !a.sawViolation(tc.kind, tc.subject) {
				t.Errorf("no permissions violation for %s to %q", tc.kind, tc.subject)
			}
		})
	}
	if got := messages(t, admin, "CRM_LEADS"); got != 2 {
		t.Errorf("CRM_LEADS holds %d messages, want 2", got)
	}
	// A fresh deadline: the denied calls above each wait out their own short one.
	check, cancelCheck := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelCheck()
	lv, err := admin.js.Consumer(check, "CRM_LEADS", "leads-view")
	if err != nil || lv.CachedInfo().Config.FilterSubject != "" {
		t.Errorf("the services' consumer was changed: %v", err)
	}
}

func subscribe(c *client, subject string) func(context.Context) error {
	return func(context.Context) error {
		sub, err := c.nc.SubscribeSync(subject)
		if err != nil {
			return err
		}
		_, err = sub.NextMsg(500 * time.Millisecond)
		return err
	}
}
