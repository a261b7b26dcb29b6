package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
)

// auditEntry is one line of `crmctl audit`: who did what to the record, when, at which version.
type auditEntry struct {
	Stream        string    `json:"stream"`
	Sequence      uint64    `json:"sequence"`
	AggregateType string    `json:"aggregate_type"`
	AggregateID   string    `json:"aggregate_id"`
	Version       uint64    `json:"version"`
	EventType     string    `json:"event_type"`
	OccurredAt    time.Time `json:"occurred_at"`
	RecordedAt    time.Time `json:"recorded_at,omitzero"`
	ActorType     string    `json:"actor_type"`
	Actor         string    `json:"actor"`
	OnBehalfOf    string    `json:"on_behalf_of,omitempty"`
	CorrelationID string    `json:"correlation_id,omitempty"`
	CausationID   string    `json:"causation_id,omitempty"`
}

func (a *app) auditCommand() *cobra.Command {
	var aggType string
	cmd := &cobra.Command{
		Use:   "audit <record id>",
		Short: "List who did what to a record: every event of it with actor, time, type and version",
		Long: `List the audit trail of one record (a lead, contact, account, opportunity, campaign, ...) of
the --tenant: every event stored for it in the CRM streams, in order, with the actor that caused
it (user or service, and on whose behalf), when it occurred and was recorded, the event type and
the record's version after it. It reads the event log itself (JetStream, --nats-url), not a read
model, so it shows everything that ever happened to the record — including an erasure
(LeadErased, ContactErased), which it reports like any other event. Payloads are not shown:
use "crmctl events tail" for those.

Record ids are unique per tenant across types; --type narrows the search to one aggregate type.`,
		Example: `  crmctl audit 0190a3f2-7c1e-7d3a-9f00-3c2b1a0e9d11
  crmctl audit 0190a3f2-7c1e-7d3a-9f00-3c2b1a0e9d11 --type lead -o json | jq -r .actor`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			entries, err := a.audit(cmd.Context(), args[0], aggType)
			if err != nil {
				return err
			}
			if len(entries) == 0 {
				return fmt.Errorf("no events of record %q in tenant %q", args[0], a.tenant)
			}
			return printAudit(a.stdout, entries, a.output == outputJSON)
		},
	}
	cmd.Flags().StringVar(&aggType, "type", "", "aggregate type of the record (lead, contact, account, opportunity, campaign, ...); default: any")
	return cmd
}

// audit reads every event of the record from the CRM streams.
func (a *app) audit(ctx context.Context, id, aggType string) ([]auditEntry, error) {
	if !validToken(id) || (aggType != "" && !validToken(aggType)) || !validToken(a.tenant) {
		return nil, errors.New("the record id, --type and --tenant may hold only letters, digits, _ and -")
	}
	if aggType == "" {
		aggType = "*"
	}
	filter := fmt.Sprintf("crm.%s.%s.%s.*", a.tenant, aggType, id)
	nc, err := nats.Connect(a.natsURL, nats.Name("crmctl"))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", a.natsURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	var out []auditEntry
	for _, s := range crmStreams {
		cons, err := js.OrderedConsumer(ctx, s.name, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{filter}, DeliverPolicy: jetstream.DeliverAllPolicy})
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", s.name, err)
		}
		info, err := cons.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", s.name, err)
		}
		for left := info.NumPending; left > 0; {
			batch, err := cons.Fetch(int(min(left, 256)), jetstream.FetchMaxWait(drainWait))
			if err != nil {
				return nil, fmt.Errorf("stream %s: %w", s.name, err)
			}
			n := 0
			for msg := range batch.Messages() {
				n++
				out = append(out, auditOf(s.name, msg))
			}
			if n == 0 {
				break
			}
			left -= uint64(n)
		}
	}
	// A record lives in one stream, whose ordered consumer delivered its events in order.
	return out, nil
}

func auditOf(stream string, msg jetstream.Msg) auditEntry {
	e := auditEntry{Stream: stream}
	if md, err := msg.Metadata(); err == nil {
		e.Sequence = md.Sequence.Stream
	}
	env := &eventsv1.Envelope{}
	if err := proto.Unmarshal(msg.Data(), env); err != nil {
		e.EventType = "(not an envelope)"
		return e
	}
	e.AggregateType, e.AggregateID, e.Version = env.GetAggregateType(), env.GetAggregateId(), env.GetAggregateVersion()
	e.EventType = env.GetEventType()
	if t := env.GetOccurredAt(); t != nil {
		e.OccurredAt = t.AsTime().UTC()
	}
	if t := env.GetRecordedAt(); t != nil {
		e.RecordedAt = t.AsTime().UTC()
	}
	act := env.GetActor()
	e.ActorType = actorType(act.GetType())
	e.Actor, e.OnBehalfOf = act.GetId(), act.GetOnBehalfOf()
	e.CorrelationID, e.CausationID = env.GetCorrelationId(), env.GetCausationId()
	return e
}

func actorType(t eventsv1.ActorType) string {
	switch t {
	case eventsv1.ActorType_ACTOR_TYPE_USER:
		return "user"
	case eventsv1.ActorType_ACTOR_TYPE_SERVICE:
		return "service"
	case eventsv1.ActorType_ACTOR_TYPE_SYSTEM:
		return "system"
	}
	return ""
}

func printAudit(w io.Writer, entries []auditEntry, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, e := range entries {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Fprintf(w, "%-20s  %-8s  %-24s  %-32s  %-7s  %s\n", "OCCURRED_AT", "VERSION", "ACTOR", "EVENT_TYPE", "TYPE", "STREAM:SEQ")
	for _, e := range entries {
		actor := e.Actor
		if e.ActorType != "" && e.ActorType != "user" {
			actor = e.ActorType + ":" + actor
		}
		if e.OnBehalfOf != "" {
			actor += " (for " + e.OnBehalfOf + ")"
		}
		fmt.Fprintf(w, "%-20s  %-8d  %-24s  %-32s  %-7s  %s:%d\n", e.OccurredAt.Format(time.RFC3339), e.Version, actor,
			shortType(e.EventType), e.AggregateType, e.Stream, e.Sequence)
	}
	return nil
}

func shortType(full string) string {
	for i := len(full) - 1; i >= 0; i-- {
		if full[i] == '.' {
			return full[i+1:]
		}
	}
	return full
}

// validToken reports whether s is one subject token of the restricted alphabet, so it cannot
// widen the subject filter (no wildcards or dots).
func validToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
