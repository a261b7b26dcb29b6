// Package chwriter maps the CRM events to rows of the analytics tables (the contract in
// docs/analytics.md, created by chschema's migrations) and inserts them into ClickHouse in
// native batches.
//
// Every event becomes a row of events; lead, contact, opportunity, campaign and member events
// also update their current-state table, and some add a fact row (lead_transitions,
// stage_transitions, responses, costs, conversions). Current-state rows are folds of an
// aggregate's events, so a batch first reads the rows of the aggregates it touches, applies
// the events whose aggregate_version follows the row's, and writes one new row per aggregate
// with the stream sequence of its last event. That keeps the writer stateless and replay-safe:
// an event whose version the row already has changes nothing, and every table collapses
// duplicates by its key (ReplacingMergeTree(seq)).
package chwriter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/projection"

	// The payload types the writer decodes register themselves with the protobuf registry.
	_ "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	_ "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	_ "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
)

// ErrOutOfOrder means an event arrived before an earlier event of its aggregate was projected
// (another replica holds it, or it is waiting for redelivery). The batch must be offered again
// later; after Options.GapPatience deliveries the event is applied anyway so that one lost
// event cannot stall its aggregate for ever.
var ErrOutOfOrder = errors.New("chwriter: event arrived before an earlier event of its aggregate")

// StoreError wraps a failure of ClickHouse itself (down, timeout, refused insert): the batch is
// intact and can be written again as it is.
type StoreError struct{ Err error }

func (e *StoreError) Error() string { return "chwriter: clickhouse: " + e.Err.Error() }
func (e *StoreError) Unwrap() error { return e.Err }

// DefaultGapPatience is Options.GapPatience when zero.
const DefaultGapPatience = 3

// Options tune a Writer.
type Options struct {
	// GapPatience is the delivery count from which an event is applied even though an earlier
	// event of its aggregate is missing. Default DefaultGapPatience.
	GapPatience uint64
	Logger      *slog.Logger
}

// Writer writes events into the analytics tables of the database its connection uses.
type Writer struct {
	conn driver.Conn
	opts Options
}

// New returns a Writer on conn, whose default database holds the tables.
func New(conn driver.Conn, opts Options) *Writer {
	if opts.GapPatience == 0 {
		opts.GapPatience = DefaultGapPatience
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Writer{conn: conn, opts: opts}
}

// decoded is an event with its typed payload.
type decoded struct {
	projection.Event
	msg proto.Message
}

var jsonOpts = protojson.MarshalOptions{UseProtoNames: true}

// Write projects evs. It returns nil when every row is in ClickHouse; projection.Poison errors
// (joined) for events whose payload does not decode, having written nothing; errors wrapping
// ErrOutOfOrder (joined) when some aggregates must wait, having written the batch's other
// events; a *StoreError when ClickHouse failed.
func (w *Writer) Write(ctx context.Context, evs []projection.Event) error {
	ds := make([]decoded, 0, len(evs))
	var poison []error
	for _, ev := range evs {
		msg, err := eventstore.DecodePayload(ev.Envelope)
		if err != nil {
			poison = append(poison, projection.Poison(ev, err.Error()))
			continue
		}
		ds = append(ds, decoded{Event: ev, msg: msg})
	}
	if len(poison) > 0 {
		return errors.Join(poison...)
	}
	b := newBatch(w)
	if err := b.load(ctx, ds); err != nil {
		return &StoreError{Err: err}
	}
	// An aggregate whose next event is missing holds back only its own events: the rest of
	// the batch is written. Replicas sharing a consumer hold each other's predecessors; if
	// each refused its whole batch, neither would progress until GapPatience ran out and
	// the events were applied over the gap, losing the earlier ones for good. The batch is
	// offered again whole; what was written now is a replay then and changes nothing.
	held := map[string]bool{}
	var wait []error
	for _, d := range ds {
		agg := key(d.Envelope.GetTenantId(), d.Envelope.GetAggregateType(), d.Envelope.GetAggregateId())
		if held[agg] {
			continue
		}
		if err := b.add(d); err != nil {
			if !errors.Is(err, ErrOutOfOrder) {
				return err
			}
			held[agg] = true
			wait = append(wait, err)
		}
	}
	if err := b.insert(ctx); err != nil {
		return &StoreError{Err: err}
	}
	return errors.Join(wait...)
}

// batch is the rows of one Write.
type batch struct {
	w     *Writer
	facts map[string][][]any // table → rows

	leads    map[string]*lead
	opps     map[string]*opportunity
	camps    map[string]*campaign
	members  map[string]*member
	contacts map[string]*contact
	dirty    map[string]bool // "<table>\x00<key>" of the current-state rows to write
}

func newBatch(w *Writer) *batch {
	return &batch{w: w, facts: map[string][][]any{},
		leads: map[string]*lead{}, opps: map[string]*opportunity{}, camps: map[string]*campaign{},
		members: map[string]*member{}, contacts: map[string]*contact{}, dirty: map[string]bool{}}
}

func key(parts ...string) string { return strings.Join(parts, "\x00") }

func (b *batch) fact(table string, row ...any) { b.facts[table] = append(b.facts[table], row) }

// step decides whether ev is folded into a row that stands at version cur: not when the row
// has it already (a replay), yes when it is the next one, and for a gap only once the event
// has been offered GapPatience times.
func (b *batch) step(d decoded, cur uint64) (bool, error) {
	v := d.Envelope.GetAggregateVersion()
	switch {
	case v != 0 && v <= cur:
		return false, nil
	case v == 0 || v == cur+1:
		return true, nil
	case d.Deliveries >= b.w.opts.GapPatience:
		b.w.opts.Logger.Warn("chwriter: applying an event after a gap in its aggregate's versions",
			"stream", d.Stream, "seq", d.Sequence, "aggregate", d.Envelope.GetAggregateType()+"/"+d.Envelope.GetAggregateId(),
			"version", v, "row_version", cur)
		return true, nil
	default:
		return false, fmt.Errorf("%w: %s %s/%s version %d, projected %d (stream %s seq %d)", ErrOutOfOrder,
			d.Envelope.GetTenantId(), d.Envelope.GetAggregateType(), d.Envelope.GetAggregateId(), v, cur, d.Stream, d.Sequence)
	}
}

// add folds one event into the batch. An event that must wait (ErrOutOfOrder) adds no row,
// not even to events.
func (b *batch) add(d decoded) error {
	env := d.Envelope
	var err error
	switch env.GetAggregateType() {
	case "lead":
		err = b.addLead(d)
	case "contact":
		err = b.addContact(d)
	case "opportunity":
		err = b.addOpportunity(d)
	case "campaign":
		err = b.addCampaign(d)
	case "member":
		err = b.addMember(d)
	}
	if err != nil {
		return err
	}
	payload, err := jsonOpts.Marshal(d.msg)
	if err != nil {
		payload = nil // a payload protojson cannot render still counts as an event
	}
	b.fact("events", env.GetTenantId(), d.Stream, d.Sequence, env.GetEventId(), env.GetAggregateType(),
		env.GetAggregateId(), env.GetAggregateVersion(), eventstore.ShortType(env.GetEventType()),
		env.GetEventType(), ts(env.GetOccurredAt()), orTime(ts(env.GetRecordedAt()), clamp(d.Stored)),
		env.GetActor().GetId(), env.GetCorrelationId(), env.GetCausationId(), string(payload),
		enumName(env.GetActor().GetType()), env.GetSchemaVersion(), clamp(d.Stored))
	return nil
}

// at is when the event happened, for the tables' time columns.
func at(d decoded) time.Time { return orTime(ts(d.Envelope.GetOccurredAt()), clamp(d.Stored)) }

// insert sends every table's rows, facts first: if a later insert fails the batch is written
// again, and the facts already in collapse with their repeats.
func (b *batch) insert(ctx context.Context) error {
	tables := []struct {
		name string
		cols []string
	}{
		{"events", eventsColumns}, {"lead_transitions", leadTransitionsColumns},
		{"stage_transitions", stageTransitionsColumns}, {"responses", responsesColumns},
		{"costs", costsColumns}, {"conversions", conversionsColumns},
	}
	for _, t := range tables {
		if err := b.send(ctx, t.name, t.cols, b.facts[t.name]); err != nil {
			return err
		}
	}
	var leads, opps, camps, members, contacts [][]any
	for k := range b.dirty {
		table, id, _ := strings.Cut(k, "\x00")
		switch table {
		case "leads":
			leads = append(leads, b.leads[id].values())
		case "opportunities":
			opps = append(opps, b.opps[id].values())
		case "campaigns":
			camps = append(camps, b.camps[id].values())
		case "members":
			members = append(members, b.members[id].values())
		case "contacts":
			contacts = append(contacts, b.contacts[id].values())
		}
	}
	for _, t := range []struct {
		name string
		cols []string
		rows [][]any
	}{
		{"leads", leadsColumns, leads}, {"opportunities", opportunitiesColumns, opps},
		{"campaigns", campaignsColumns, camps}, {"members", membersColumns, members},
		{"contacts", contactsColumns, contacts},
	} {
		if err := b.send(ctx, t.name, t.cols, t.rows); err != nil {
			return err
		}
	}
	return nil
}

func (b *batch) send(ctx context.Context, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	nb, err := b.w.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+")")
	if err != nil {
		return fmt.Errorf("prepare insert into %s: %w", table, err)
	}
	defer nb.Abort() //nolint:errcheck // a no-op once sent
	for _, r := range rows {
		if err := nb.Append(r...); err != nil {
			return fmt.Errorf("append to %s: %w", table, err)
		}
	}
	if err := nb.Send(); err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	return nil
}
