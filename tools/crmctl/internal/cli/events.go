package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/tools/crmctl/internal/protoflag"
)

// crmStreams are the CRM event streams (docs/events.md), by their short names.
var crmStreams = []struct{ short, name string }{
	{"leads", "CRM_LEADS"},
	{"pipeline", "CRM_PIPELINE"},
	{"campaign", "CRM_CAMPAIGN"},
}

// drainWait is how long a non-following tail waits for more events once the stream has none.
const drainWait = time.Second

type tailOptions struct {
	streams    []string
	subjects   []string
	aggregate  string
	eventType  string
	allTenants bool
	fromSeq    uint64
	since      string
	fromStart  bool
	follow     bool
	limit      int
}

func (a *app) eventsCommand() *cobra.Command {
	var o tailOptions
	tail := &cobra.Command{
		Use:   "tail",
		Short: "Follow the CRM event streams, printing each event's envelope with its payload decoded",
		Long: `Follow the CRM event streams (CRM_LEADS, CRM_PIPELINE, CRM_CAMPAIGN) through JetStream ordered
consumers and print each event: with --output json (the default here) one JSON object per line
holding the stream, sequence, subject and the envelope, whose payload is decoded by its
event_type; with --output table one line per event.

Subjects are crm.<tenant>.<aggregate_type>.<aggregate_id>.<EventType>. By default only the
--tenant's events are shown; --aggregate and --event-type narrow that, --subject replaces it
with NATS subject filters of your own (wildcards * and >), --all-tenants drops the tenant.

Start: new events only (default), --from-start, --since (a time or a duration ago), or
--from-seq (a stream sequence; with a single --stream). --follow=false stops once the
streams are read up to now; --limit stops after that many events.`,
		Example: `  crmctl events tail
  crmctl events tail --stream leads --aggregate lead --event-type LeadStatusChanged --since 1h
  crmctl events tail --stream CRM_PIPELINE --from-seq 1 --follow=false | jq .envelope.payload
  crmctl events tail --subject 'crm.acme.opportunity.*.OpportunityWon' -o table`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			jsonOut := a.output == outputJSON || !cmd.Flags().Changed("output")
			return a.tail(cmd.Context(), o, jsonOut)
		},
	}
	fs := tail.Flags()
	fs.StringSliceVar(&o.streams, "stream", nil, "streams to follow: leads, pipeline, campaign or their names (default: all three)")
	fs.StringSliceVar(&o.subjects, "subject", nil, "NATS subject filters, replacing the tenant/aggregate/type filter (repeatable)")
	fs.StringVar(&o.aggregate, "aggregate", "", "only this aggregate type (lead, contact, account, opportunity, campaign, ...)")
	fs.StringVar(&o.eventType, "event-type", "", "only this event type's short name (LeadCreated, OpportunityWon, ...)")
	fs.BoolVar(&o.allTenants, "all-tenants", false, "every tenant's events, not only --tenant's")
	fs.Uint64Var(&o.fromSeq, "from-seq", 0, "start at this stream sequence (needs exactly one --stream)")
	fs.StringVar(&o.since, "since", "", "start at this time: RFC 3339, a date, or a duration ago (10m, 2h, 7d)")
	fs.BoolVar(&o.fromStart, "from-start", false, "start at the beginning of the streams")
	fs.BoolVar(&o.follow, "follow", true, "keep waiting for new events (false: stop once read up to now)")
	fs.IntVar(&o.limit, "limit", 0, "stop after this many events (0: no limit)")
	return group("events", "The CRM event streams in NATS JetStream", []string{"event"}, tail)
}

// filters are the subject filters of a tail.
func (o tailOptions) filters(tenant string) []string {
	if len(o.subjects) > 0 {
		return o.subjects
	}
	t, agg, typ := tenant, "*", "*"
	if o.allTenants {
		t = "*"
	}
	if o.aggregate != "" {
		agg = o.aggregate
	}
	if o.eventType != "" {
		typ = o.eventType
	}
	if agg == "*" && typ == "*" {
		return []string{"crm." + t + ".>"}
	}
	return []string{fmt.Sprintf("crm.%s.%s.*.%s", t, agg, typ)}
}

func (o tailOptions) streamNames() []string {
	if len(o.streams) == 0 {
		out := make([]string, len(crmStreams))
		for i, s := range crmStreams {
			out[i] = s.name
		}
		return out
	}
	var out []string
	for _, s := range o.streams {
		name := strings.ToUpper(s)
		for _, c := range crmStreams {
			if strings.EqualFold(s, c.short) {
				name = c.name
			}
		}
		out = append(out, name)
	}
	return out
}

func (o tailOptions) consumerConfig(filters []string) (jetstream.OrderedConsumerConfig, error) {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: filters, DeliverPolicy: jetstream.DeliverNewPolicy}
	starts := 0
	if o.fromSeq > 0 {
		starts++
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, o.fromSeq
	}
	if o.since != "" {
		starts++
		t, err := protoflag.ParseTime(o.since)
		if err != nil {
			d, derr := protoflag.ParseDuration(o.since)
			if derr != nil {
				return cfg, fmt.Errorf("--since: %q is neither a time nor a duration", o.since)
			}
			t = time.Now().Add(-d)
		}
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	}
	if o.fromStart {
		starts++
		cfg.DeliverPolicy = jetstream.DeliverAllPolicy
	}
	if starts > 1 {
		return cfg, errors.New("give only one of --from-seq, --since and --from-start")
	}
	return cfg, nil
}

func (a *app) tail(ctx context.Context, o tailOptions, jsonOut bool) error {
	streams := o.streamNames()
	if o.fromSeq > 0 && len(streams) != 1 {
		return errors.New("--from-seq is a position in one stream: give exactly one --stream")
	}
	cfg, err := o.consumerConfig(o.filters(a.tenant))
	if err != nil {
		return err
	}
	nc, err := nats.Connect(a.natsURL, nats.Name("crmctl"))
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w", a.natsURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := &eventPrinter{a: a, json: jsonOut, limit: o.limit, stop: cancel}
	g, gctx := errgroup.WithContext(ctx)
	for _, name := range streams {
		if gctx.Err() != nil {
			break // --limit reached by the streams started so far, or a stream failed
		}
		if _, err := js.Stream(gctx, name); err != nil {
			if gctx.Err() != nil {
				break
			}
			if errors.Is(err, jetstream.ErrStreamNotFound) && len(o.streams) == 0 {
				// A stream appears when its service first starts; until then it has no events.
				fmt.Fprintf(a.stderr, "crmctl: stream %s does not exist (yet); skipping it\n", name)
				continue
			}
			return fmt.Errorf("stream %s: %w", name, err)
		}
		cons, err := js.OrderedConsumer(gctx, name, cfg)
		if err != nil {
			if gctx.Err() != nil {
				break
			}
			return fmt.Errorf("stream %s: %w", name, err)
		}
		g.Go(func() error {
			if o.follow {
				return followStream(gctx, name, cons, p)
			}
			return drainStream(gctx, name, cons, p)
		})
	}
	err = g.Wait()
	if ctx.Err() != nil {
		return nil // Ctrl-C or --limit reached: a normal end of a tail
	}
	return err
}

// followStream prints the stream's events until ctx ends.
func followStream(ctx context.Context, stream string, cons jetstream.Consumer, p *eventPrinter) error {
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("stream %s: %w", stream, err)
	}
	go func() { <-ctx.Done(); it.Stop() }()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			return fmt.Errorf("stream %s: %w", stream, err)
		}
		p.print(stream, msg)
	}
}

// drainStream prints the stream's events up to the last one there is, then returns.
func drainStream(ctx context.Context, stream string, cons jetstream.Consumer, p *eventPrinter) error {
	for ctx.Err() == nil {
		batch, err := cons.Fetch(256, jetstream.FetchMaxWait(drainWait))
		if err != nil {
			return fmt.Errorf("stream %s: %w", stream, err)
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			p.print(stream, msg)
			if meta, err := msg.Metadata(); err == nil && meta.NumPending == 0 {
				return nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && ctx.Err() == nil {
			return fmt.Errorf("stream %s: %w", stream, err)
		}
		if n == 0 {
			return nil
		}
	}
	return nil
}

// eventPrinter writes events from several streams one at a time and counts them for --limit.
type eventPrinter struct {
	a     *app
	json  bool
	limit int
	stop  func()

	mu      sync.Mutex
	printed int
	header  bool
}

func (p *eventPrinter) print(stream string, msg jetstream.Msg) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.limit > 0 && p.printed >= p.limit {
		return
	}
	var seq uint64
	if meta, err := msg.Metadata(); err == nil {
		seq = meta.Sequence.Stream
	}
	env := &eventsv1.Envelope{}
	decodeErr := proto.Unmarshal(msg.Data(), env)
	if p.json {
		line, err := eventJSON(stream, seq, msg.Subject(), env, decodeErr)
		if err != nil {
			line = []byte(fmt.Sprintf(`{"stream":%q,"sequence":%d,"subject":%q,"error":%q}`, stream, seq, msg.Subject(), err.Error()))
		}
		fmt.Fprintf(p.a.stdout, "%s\n", line)
	} else {
		if !p.header {
			fmt.Fprintf(p.a.stdout, "%-20s  %-20s  %-40s  %s\n", "OCCURRED_AT", "STREAM:SEQ", "EVENT_TYPE", "SUBJECT")
			p.header = true
		}
		at := ""
		if env.GetOccurredAt() != nil {
			at = env.GetOccurredAt().AsTime().UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(p.a.stdout, "%-20s  %-20s  %-40s  %s\n", at, fmt.Sprintf("%s:%d", stream, seq), env.GetEventType(), msg.Subject())
	}
	p.printed++
	if p.limit > 0 && p.printed >= p.limit {
		p.stop()
	}
}

// eventJSON is one line of a JSON tail: where the event is stored and its envelope, with the
// payload decoded from its registered type (left as base64 when the type is unknown).
func eventJSON(stream string, seq uint64, subject string, env *eventsv1.Envelope, decodeErr error) ([]byte, error) {
	line := struct {
		Stream   string          `json:"stream"`
		Sequence uint64          `json:"sequence"`
		Subject  string          `json:"subject"`
		Envelope json.RawMessage `json:"envelope,omitempty"`
		Error    string          `json:"error,omitempty"`
	}{Stream: stream, Sequence: seq, Subject: subject}
	if decodeErr != nil {
		line.Error = "not an envelope: " + decodeErr.Error()
		return json.Marshal(line)
	}
	envJSON, err := protojson.Marshal(env)
	if err != nil {
		return nil, err
	}
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal(envJSON, &fields); err != nil {
		return nil, err
	}
	if payload, err := decodePayload(env); err != nil {
		line.Error = err.Error()
	} else if payload != nil {
		fields["payload"] = payload
	}
	if line.Envelope, err = json.Marshal(fields); err != nil {
		return nil, err
	}
	return json.Marshal(line)
}

// decodePayload turns the payload bytes into protojson of the message named by event_type.
func decodePayload(env *eventsv1.Envelope) (json.RawMessage, error) {
	if len(env.GetPayload()) == 0 {
		return nil, nil
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(env.GetEventType()))
	if err != nil {
		return nil, fmt.Errorf("payload type %q is unknown to this crmctl: %v", env.GetEventType(), err)
	}
	m := mt.New().Interface()
	if err := proto.Unmarshal(env.GetPayload(), m); err != nil {
		return nil, fmt.Errorf("payload of %s: %w", env.GetEventType(), err)
	}
	return protojson.Marshal(m)
}
