package natsperm_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/natsperm"
	"github.com/evcrm/evcrm/libs/projection"
)

// An aggregate type of each owned stream and an event to append to it.
var sample = map[string]struct {
	aggregate string
	payload   proto.Message
}{
	eventstore.LeadsStream.Name:    {"lead", &leadsv1.LeadCreated{}},
	eventstore.PipelineStream.Name: {"opportunity", &pipelinev1.OpportunityCreated{}},
	eventstore.CampaignStream.Name: {"campaign", &campaignv1.CampaignCreated{}},
}

// TestServiceUsersDoTheirWork runs what each service does at start and at work with the
// libraries it does it with, logged in as its restricted user: any JetStream API call missing
// from the table fails here (as a timeout and a reported permissions violation).
func TestServiceUsersDoTheirWork(t *testing.T) {
	url := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	clients := map[string]*client{}
	for _, s := range natsperm.Services {
		clients[s.Name] = connect(t, url, s.Name)
	}

	// Start-up order on a fresh server: analytics and campaign first, they create the streams
	// they consume; the owners then find them and update them to their configuration.
	for _, name := range []string{"analytics", "campaign", "leads", "pipeline"} {
		s := service(t, name)
		c := clients[name]
		if err := eventstore.EnsureStreams(ctx, c.js, eventstore.StreamOptions{}, append(s.Owns, s.Creates...)...); err != nil {
			t.Fatalf("%s: EnsureStreams: %v", name, err)
		}
		for _, own := range s.Owns {
			cfg := eventstore.StreamConfig(own, eventstore.StreamOptions{})
			if _, err := c.js.UpdateStream(ctx, cfg); err != nil {
				t.Fatalf("%s: update own stream %s: %v", name, own.Name, err)
			}
		}
	}

	// Appends and loads through the event store, and the KV buckets.
	for _, s := range natsperm.Services {
		c := clients[s.Name]
		store, err := eventstore.New(c.nc, eventstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, own := range s.Owns {
			ref := eventstore.Ref{Tenant: "t1", Type: sample[own.Name].aggregate, ID: s.Name + "1"}
			res, err := store.Append(ctx, ref, eventstore.Position{}, eventstore.Event{Payload: sample[own.Name].payload})
			if err != nil {
				t.Fatalf("%s: append to %s: %v", s.Name, ref, err)
			}
			// An atomic batch (two events) takes the batch path of the store.
			if _, err := store.Append(ctx, ref, res.Position, eventstore.Event{Payload: sample[own.Name].payload}, eventstore.Event{Payload: sample[own.Name].payload}); err != nil {
				t.Fatalf("%s: batch append to %s: %v", s.Name, ref, err)
			}
			recs, _, err := store.Load(ctx, ref)
			if err != nil || len(recs) != 3 {
				t.Fatalf("%s: load %s: %d events, %v", s.Name, ref, len(recs), err)
			}
			if _, ok, err := store.Last(ctx, ref); err != nil || !ok {
				t.Fatalf("%s: last of %s: %v %v", s.Name, ref, ok, err)
			}
		}
		for _, b := range s.Buckets {
			exerciseBucket(ctx, t, c, s.Name, b)
		}
		if len(s.Owns) > 0 {
			if _, err := eventstore.NewIdempotency(ctx, c.js, eventstore.IdempotencyOptions{}); err != nil {
				t.Fatalf("%s: idempotency: %v", s.Name, err)
			}
		}
	}

	// Consumers on every stream each service reads: a durable projection (with its dead-letter
	// stream), an ordered consumer, message gets, and a dead letter.
	for _, s := range natsperm.Services {
		c := clients[s.Name]
		for _, st := range s.Reads {
			consume(ctx, t, c, s.Name, st.Name)
		}
		dl := nats.NewMsg(projection.DeadLetterSubjectPrefix + "." + s.Name + "-test.crm.t1.lead.x.LeadCreated")
		if _, err := c.js.PublishMsg(ctx, dl, jetstream.WithMsgID(s.Name+"-dl")); err != nil {
			t.Fatalf("%s: dead letter: %v", s.Name, err)
		}
	}

	// Analytics' rebuild deletes its consumers on all three streams.
	for _, st := range eventstore.DefaultStreams() {
		if err := clients["analytics"].js.DeleteConsumer(ctx, st.Name, "analytics-perm-test"); err != nil {
			t.Fatalf("analytics: delete consumer on %s: %v", st.Name, err)
		}
	}

	for name, c := range clients {
		c.noViolations(t, name)
	}
}

func service(t *testing.T, name string) natsperm.Service {
	t.Helper()
	for _, s := range natsperm.Services {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no service %s", name)
	return natsperm.Service{}
}

func exerciseBucket(ctx context.Context, t *testing.T, c *client, user, bucket string) {
	t.Helper()
	kv, err := c.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, History: 1})
	if err != nil {
		t.Fatalf("%s: bucket %s: %v", user, bucket, err)
	}
	key := "t1." + user
	rev, err := kv.Create(ctx, key, []byte("a"))
	if err != nil {
		t.Fatalf("%s: %s create: %v", user, bucket, err)
	}
	if rev, err = kv.Update(ctx, key, []byte("b"), rev); err != nil {
		t.Fatalf("%s: %s update: %v", user, bucket, err)
	}
	if e, err := kv.Get(ctx, key); err != nil || string(e.Value()) != "b" {
		t.Fatalf("%s: %s get: %v", user, bucket, err)
	}
	if _, err := kv.Put(ctx, key+"x", []byte("c")); err != nil {
		t.Fatalf("%s: %s put: %v", user, bucket, err)
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		t.Fatalf("%s: %s list keys: %v", user, bucket, err)
	}
	n := 0
	for range keys.Keys() {
		n++
	}
	if n < 2 {
		t.Fatalf("%s: %s: %d keys listed", user, bucket, n)
	}
	if err := kv.Delete(ctx, key, jetstream.LastRevision(rev)); err != nil {
		t.Fatalf("%s: %s delete: %v", user, bucket, err)
	}
}

func consume(ctx context.Context, t *testing.T, c *client, user, stream string) {
	t.Helper()
	var once sync.Once
	got := make(chan struct{})
	r, err := projection.NewDurable(c.js, projection.Config{
		Name:        user + "-perm-test",
		Sources:     []projection.Source{{Stream: stream}},
		LagInterval: -1,
	}, projection.HandlerFunc(func(context.Context, []projection.Event) error {
		once.Do(func() { close(got) })
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	select {
	case <-got:
	case err := <-done:
		t.Fatalf("%s: durable consumer on %s: %v", user, stream, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: durable consumer on %s: no event in 10s", user, stream)
	}
	stop()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("%s: durable consumer on %s: %v", user, stream, err)
	}
	if _, err := r.Lag(ctx); err != nil {
		t.Fatalf("%s: lag on %s: %v", user, stream, err)
	}

	oc, err := c.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"crm.t1.*.*.*"}})
	if err != nil {
		t.Fatalf("%s: ordered consumer on %s: %v", user, stream, err)
	}
	if _, err := oc.Info(ctx); err != nil {
		t.Fatalf("%s: ordered consumer info on %s: %v", user, stream, err)
	}
	b, err := oc.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatalf("%s: ordered fetch on %s: %v", user, stream, err)
	}
	n := 0
	for range b.Messages() {
		n++
	}
	if n != 1 {
		t.Fatalf("%s: ordered fetch on %s: %d messages, %v", user, stream, n, b.Error())
	}
	st, err := c.js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetMsg(ctx, 1, jetstream.WithGetMsgSubject("crm.*.>")); err != nil {
		t.Fatalf("%s: get message of %s: %v", user, stream, err)
	}
	if _, err := st.GetLastMsgForSubject(ctx, "crm.t1.>"); err != nil {
		t.Fatalf("%s: get last message of %s: %v", user, stream, err)
	}
}
