package projection_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/libs/natsembed"
	"github.com/evcrm/evcrm/libs/projection"
)

// leadCounter is a read model kept in memory: the number of leads per tenant, with the
// checkpoint it describes. Data and checkpoint change under one lock, the in-memory form of
// "in one transaction".
type leadCounter struct {
	mu         sync.Mutex
	perTenant  map[string]int
	checkpoint map[string]uint64
	caughtUp   chan struct{}
}

func (c *leadCounter) Handle(_ context.Context, events []projection.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range events {
		if e.Envelope.GetEventType() == "crm.leads.v1.LeadCreated" {
			c.perTenant[e.Envelope.GetTenantId()]++
		}
		c.checkpoint[e.Stream] = e.Sequence
		if e.Sequence == 3 {
			close(c.caughtUp)
		}
	}
	return nil
}

func (c *leadCounter) Checkpoint(context.Context) (map[string]uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]uint64{}
	for k, v := range c.checkpoint {
		out[k] = v
	}
	return out, nil
}

// A read model fed by an ordered consumer that resumes from the model's own checkpoint.
func ExampleNewOrdered() {
	js, cleanup := exampleJetStream()
	defer cleanup()
	ctx := context.Background()
	for i, tenant := range []string{"acme", "acme", "globex"} {
		examplePublish(ctx, js, tenant, fmt.Sprintf("L%d", i), "LeadCreated")
	}

	model := &leadCounter{perTenant: map[string]int{}, checkpoint: map[string]uint64{}, caughtUp: make(chan struct{})}
	r, err := projection.NewOrdered(js, projection.Config{
		Name:    "lead-counter",
		Sources: []projection.Source{{Stream: "CRM_LEADS", FilterSubjects: []string{"crm.*.lead.>"}}},
	}, model)
	if err != nil {
		log.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	go func() { <-model.caughtUp; stop() }()
	if err := r.Run(runCtx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("acme:", model.perTenant["acme"], "globex:", model.perTenant["globex"])
	fmt.Println("checkpoint:", model.checkpoint["CRM_LEADS"])
	// Output:
	// acme: 2 globex: 1
	// checkpoint: 3
}

// A shared sink fed by a durable consumer: replicas running the same Name split the work, and
// the sink deduplicates redeliveries by (stream, sequence).
func ExampleNewDurable() {
	js, cleanup := exampleJetStream()
	defer cleanup()
	ctx := context.Background()
	examplePublish(ctx, js, "acme", "L1", "LeadCreated")
	examplePublish(ctx, js, "acme", "L1", "LeadQualified")

	done := make(chan struct{})
	var once sync.Once
	h := projection.HandlerFunc(func(_ context.Context, events []projection.Event) error {
		for _, e := range events {
			// A real sink inserts rows keyed by (e.Stream, e.Sequence) or the event id.
			fmt.Println(e.Stream, e.Sequence, e.Envelope.GetEventType())
			if e.Sequence == 2 {
				once.Do(func() { close(done) })
			}
		}
		return nil // the Runner acks the batch only now
	})
	r, err := projection.NewDurable(js, projection.Config{
		Name:      "analytics",
		Sources:   []projection.Source{{Stream: "CRM_LEADS"}},
		BatchSize: 500,
	}, h)
	if err != nil {
		log.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	go func() { <-done; stop() }()
	if err := r.Run(runCtx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("processed:", r.Stats().Processed)
	// Output:
	// CRM_LEADS 1 crm.leads.v1.LeadCreated
	// CRM_LEADS 2 crm.leads.v1.LeadQualified
	// processed: 2
}

func exampleJetStream() (jetstream.JetStream, func()) {
	dir, err := os.MkdirTemp("", "projection-example")
	if err != nil {
		log.Fatal(err)
	}
	srv, err := natsembed.Start(natsembed.Config{Port: -1, StoreDir: dir})
	if err != nil {
		log.Fatal(err)
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		log.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	_, err = js.CreateStream(context.Background(), jetstream.StreamConfig{
		Name:     "CRM_LEADS",
		Subjects: []string{"crm.*.lead.>", "crm.*.contact.>", "crm.*.account.>"},
	})
	if err != nil {
		log.Fatal(err)
	}
	return js, func() { nc.Close(); srv.Shutdown(); os.RemoveAll(dir) }
}

func examplePublish(ctx context.Context, js jetstream.JetStream, tenant, lead, event string) {
	env := &eventsv1.Envelope{
		EventId: tenant + "-" + lead + "-" + event, TenantId: tenant,
		AggregateType: "lead", AggregateId: lead, EventType: "crm.leads.v1." + event,
	}
	data, err := proto.Marshal(env)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := js.Publish(ctx, "crm."+tenant+".lead."+lead+"."+event, data); err != nil {
		log.Fatal(err)
	}
}
