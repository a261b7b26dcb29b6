// Package chwriter maps the CRM events to rows of the analytics tables (the contract in
// docs/analytics.md, created by chschema's migrations) and inserts them into ClickHouse in
// native batches.
//
// Every event becomes a row of events; lead, contact, opportunity, campaign and member events
// also update their current-state table, and some add a fact row (lead_transitions,
// stage_transitions, responses, costs, conversions). Current-state rows are folds of an
// aggregate's events, so a batch first takes the rows of the aggregates it touches (from the
// writer's cache of rows it wrote or read, else from ClickHouse), applies the events whose
// aggregate_version follows the row's, and writes one new row per aggregate with the stream
// sequence of its last event. That keeps the writer stateless and replay-safe:
// an event whose version the row already has changes nothing, and every table collapses
// duplicates by its key (ReplacingMergeTree(seq)).
package chwriter

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
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

// DefaultGapPatience is Options.GapPatience when zero and Options.Settled is nil;
// SettledGapPatience when Settled is set (the check decides then; the delivery count is only
// the last resort before the projection's MaxDeliver of 10 would dead-letter the event).
const (
	DefaultGapPatience = 3
	SettledGapPatience = 8
)

// SettledFunc reports whether an event's missing predecessor will never arrive: after is the
// stream sequence of the last event its aggregate's row holds (0 for none). The projector
// answers from JetStream: the aggregate's next event after `after` has been acknowledged by the
// consumer (so it was written, or dead-lettered) — or there is none before ev.
type SettledFunc func(ctx context.Context, ev projection.Event, after uint64) (bool, error)

// Options tune a Writer.
type Options struct {
	// GapPatience is the delivery count from which an event is applied even though an earlier
	// event of its aggregate is missing. Default DefaultGapPatience, or SettledGapPatience
	// with Settled.
	GapPatience uint64
	// Settled, when set, lets an event be applied over a gap as soon as the missing
	// predecessor is known to be settled without reaching ClickHouse, instead of after
	// GapPatience deliveries. With replicas sharing the consumers the predecessor is usually
	// in another replica's batch, and applying over the gap by delivery count alone lost it
	// (its later arrival was a replay) when that replica was slow.
	Settled SettledFunc
	// GapWait is how long an event must have been waiting on an unsettled gap, since this
	// writer first held it back, before GapPatience may apply it anyway. Set it above the
	// consumer's AckWait: a predecessor held by a replica that died comes back only after
	// AckWait, and applying over its gap earlier lost it for good (its late arrival counts as a
	// replay). Found by the projector-kill fault test with a fast redelivery backoff. 0: no
	// time condition.
	GapWait time.Duration
	// CacheRows bounds the current-state rows the writer remembers between batches (least
	// recently used go first). Default DefaultCacheRows.
	CacheRows int
	// Cluster is the ClickHouse cluster of chschema's cluster mode ("" on a single node): an
	// erasure's rewrite of events then goes to every shard's events_local ON CLUSTER, since a
	// Distributed table takes no ALTER … UPDATE.
	Cluster string
	Logger  *slog.Logger
}

// Writer writes events into the analytics tables of the database its connection uses.
type Writer struct {
	conn  driver.Conn
	opts  Options
	cache *rowCache
	// reread holds the rows ("<table>\x00<key>") of aggregates held back by a gap: the next
	// batch touching them reads them from ClickHouse, whatever the cache or the event says.
	rereadMu sync.Mutex
	reread   map[string]bool
	// settled holds the events ("<stream>\x00<seq>") whose gap Options.Settled declared
	// permanent: the next attempt, on a row read afterwards, applies them over it.
	settledMu sync.Mutex
	settled   map[string]bool
	// waiting holds when this writer first held back each event ("<stream>\x00<seq>") on a
	// gap, for Options.GapWait; guarded by settledMu.
	waiting map[string]time.Time
}

// maxWaiting bounds Writer.waiting: events held back here and then handled by another replica
// (or dead-lettered) are never seen again, so the map is cleared when it grows this large,
// which only restarts the wait of the events still in it.
const maxWaiting = 100_000

// New returns a Writer on conn, whose default database holds the tables.
func New(conn driver.Conn, opts Options) *Writer {
	if opts.GapPatience == 0 {
		opts.GapPatience = DefaultGapPatience
		if opts.Settled != nil {
			opts.GapPatience = SettledGapPatience
		}
	}
	if opts.CacheRows <= 0 {
		opts.CacheRows = DefaultCacheRows
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Writer{conn: conn, opts: opts, cache: newRowCache(opts.CacheRows), settled: map[string]bool{},
		reread: map[string]bool{}, waiting: map[string]time.Time{}}
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
	// Fold in stream order: a batch can hold a redelivered event after a later one of the same
	// aggregate, and folding the later one first would hold the aggregate back waiting for an
	// event that sits in this very batch.
	slices.SortStableFunc(ds, func(a, b decoded) int {
		return cmp.Or(strings.Compare(a.Stream, b.Stream), cmp.Compare(a.Sequence, b.Sequence))
	})
	b := newBatch(w)
	b.facts["events"] = newColumns(eventsColumns, len(ds)) // one row per event
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
		if err := b.add(ctx, d); err != nil {
			if !errors.Is(err, ErrOutOfOrder) {
				return err
			}
			held[agg] = true
			if table, k := rowKey(d); table != "" {
				b.held[table+"\x00"+k] = true
				w.cache.forget(table, k)
				w.markRead(table, k)
			}
			wait = append(wait, err)
		}
	}
	if err := b.insert(ctx); err != nil {
		return &StoreError{Err: err}
	}
	w.cache.remember(b)
	w.forgetSettled(ds, b.held)
	// A failed scrub must not stall the projection of every tenant (on a cluster schema the
	// ALTER may be refused): it is logged loudly, and a redelivery or the next erasure of the
	// person runs it again.
	if err := w.scrubErased(ctx, ds); err != nil {
		w.opts.Logger.ErrorContext(ctx, "chwriter: removing an erased person's clear-text events failed", "error", err)
	}
	return errors.Join(wait...)
}

// batch is the rows of one Write.
type batch struct {
	w     *Writer
	facts map[string]*columns // table → rows

	leads    map[string]*lead
	opps     map[string]*opportunity
	camps    map[string]*campaign
	members  map[string]*member
	contacts map[string]*contact
	dirty    map[string]bool // "<table>\x00<key>" of the current-state rows to write
	held     map[string]bool // "<table>\x00<key>" of the rows of aggregates that must wait
	unread   map[string]bool // "<table>\x00<key>" of the rows not read from ClickHouse (cached or new)
}

func newBatch(w *Writer) *batch {
	return &batch{w: w, facts: map[string]*columns{},
		leads: map[string]*lead{}, opps: map[string]*opportunity{}, camps: map[string]*campaign{},
		members: map[string]*member{}, contacts: map[string]*contact{}, dirty: map[string]bool{},
		held: map[string]bool{}, unread: map[string]bool{}}
}

func key(parts ...string) string { return strings.Join(parts, "\x00") }

// fact adds a row to a fact table (or events): its values in the order of the table's column
// list (factColumns).
func (b *batch) fact(table string, row ...any) {
	c := b.facts[table]
	if c == nil {
		c = newColumns(factColumns[table], 0)
		b.facts[table] = c
	}
	c.add(row...)
}

// step decides whether ev is folded into a row that stands at version cur (its last event at
// stream sequence seq): not when the row has it already (a replay), yes when it is the next
// one, and for a gap only once the missing event is known settled (Options.Settled) or ev has
// been offered GapPatience times. A row that was not read from ClickHouse in this attempt (the
// cached copy, or a fresh row for a version-1 event) is never folded over a gap: the gap may
// only mean that copy is stale, so the event waits and the next attempt reads the row.
func (b *batch) step(ctx context.Context, d decoded, cur, seq uint64) (bool, error) {
	v := d.Envelope.GetAggregateVersion()
	switch {
	case v != 0 && v <= cur:
		return false, nil
	case v == 0 || v == cur+1:
		return true, nil
	}
	table, k := rowKey(d)
	if !b.unread[table+"\x00"+k] {
		settled := (d.Deliveries >= b.w.opts.GapPatience && b.w.waitedLongEnough(d)) || b.w.takeSettled(d)
		if !settled && b.w.opts.Settled != nil {
			ok, err := b.w.opts.Settled(ctx, d.Event, seq)
			if err != nil {
				return false, &StoreError{Err: fmt.Errorf("check the gap before %s seq %d: %w", d.Stream, d.Sequence, err)}
			}
			if ok {
				b.w.markSettled(d)
			}
		}
		if settled {
			b.w.opts.Logger.Warn("chwriter: applying an event after a gap in its aggregate's versions",
				"stream", d.Stream, "seq", d.Sequence, "aggregate", d.Envelope.GetAggregateType()+"/"+d.Envelope.GetAggregateId(),
				"version", v, "row_version", cur, "deliveries", d.Deliveries)
			return true, nil
		}
	}
	return false, fmt.Errorf("%w: %s %s/%s version %d, projected %d (stream %s seq %d)", ErrOutOfOrder,
		d.Envelope.GetTenantId(), d.Envelope.GetAggregateType(), d.Envelope.GetAggregateId(), v, cur, d.Stream, d.Sequence)
}

// markRead makes the next load of table's key read ClickHouse.
func (w *Writer) markRead(table, k string) {
	w.rereadMu.Lock()
	defer w.rereadMu.Unlock()
	w.reread[table+"\x00"+k] = true
}

// mustRead reports whether table's key must be read from ClickHouse, and clears the mark: the
// load that asks is the one that reads it.
func (w *Writer) mustRead(table, k string) bool {
	w.rereadMu.Lock()
	defer w.rereadMu.Unlock()
	if !w.reread[table+"\x00"+k] {
		return false
	}
	delete(w.reread, table+"\x00"+k)
	return true
}

func settledKey(d decoded) string { return d.Stream + "\x00" + strconv.FormatUint(d.Sequence, 10) }

func (w *Writer) markSettled(d decoded) {
	w.settledMu.Lock()
	defer w.settledMu.Unlock()
	w.settled[settledKey(d)] = true
}

// waitedLongEnough reports whether d has been held back on its gap for Options.GapWait, counting
// from the first time this writer held it back (which it records now if it is the first).
func (w *Writer) waitedLongEnough(d decoded) bool {
	if w.opts.GapWait <= 0 {
		return true
	}
	w.settledMu.Lock()
	defer w.settledMu.Unlock()
	k := settledKey(d)
	first, ok := w.waiting[k]
	if !ok {
		if len(w.waiting) >= maxWaiting {
			clear(w.waiting)
		}
		w.waiting[k] = time.Now()
		return false
	}
	return time.Since(first) >= w.opts.GapWait
}

// takeSettled reports whether an earlier attempt found d's gap settled, and forgets it.
func (w *Writer) takeSettled(d decoded) bool {
	w.settledMu.Lock()
	defer w.settledMu.Unlock()
	k := settledKey(d)
	ok := w.settled[k]
	delete(w.settled, k)
	if ok {
		delete(w.waiting, k)
	}
	return ok
}

// forgetSettled drops the marks of ds's events that are no longer waiting (their predecessor
// arrived after all), so the set holds only events still in flight.
func (w *Writer) forgetSettled(ds []decoded, held map[string]bool) {
	w.settledMu.Lock()
	defer w.settledMu.Unlock()
	if len(w.settled) == 0 && len(w.waiting) == 0 {
		return
	}
	for _, d := range ds {
		if table, k := rowKey(d); !held[table+"\x00"+k] {
			delete(w.settled, settledKey(d))
			delete(w.waiting, settledKey(d))
		}
	}
}

// add folds one event into the batch. An event that must wait (ErrOutOfOrder) adds no row,
// not even to events.
func (b *batch) add(ctx context.Context, d decoded) error {
	env := d.Envelope
	var err error
	switch env.GetAggregateType() {
	case "lead":
		err = b.addLead(ctx, d)
	case "contact":
		err = b.addContact(ctx, d)
	case "opportunity":
		err = b.addOpportunity(ctx, d)
	case "campaign":
		err = b.addCampaign(ctx, d)
	case "member":
		err = b.addMember(ctx, d)
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

// insert sends every table's rows, one INSERT per table. The order does not matter: if one
// insert fails the whole batch is written again, and every row already in collapses with its
// repeat (each table is a ReplacingMergeTree on its key). Sending the tables concurrently was
// measured and gained nothing: ClickHouse's own insert work on the server is the limit.
func (b *batch) insert(ctx context.Context) error {
	state := map[string]*columns{}
	for table, names := range stateColumns {
		state[table] = newColumns(names, 0)
	}
	for k := range b.dirty {
		table, id, _ := strings.Cut(k, "\x00")
		switch table {
		case "leads":
			state[table].addPtrs(b.leads[id].ptrs())
		case "opportunities":
			state[table].addPtrs(b.opps[id].ptrs())
		case "campaigns":
			state[table].addPtrs(b.camps[id].ptrs())
		case "members":
			state[table].addPtrs(b.members[id].ptrs())
		case "contacts":
			state[table].addPtrs(b.contacts[id].ptrs())
		}
	}
	for _, t := range []struct {
		name string
		rows *columns
	}{
		{"events", b.facts["events"]}, {"lead_transitions", b.facts["lead_transitions"]},
		{"stage_transitions", b.facts["stage_transitions"]}, {"responses", b.facts["responses"]},
		{"costs", b.facts["costs"]}, {"conversions", b.facts["conversions"]},
		{"leads", state["leads"]}, {"opportunities", state["opportunities"]},
		{"campaigns", state["campaigns"]}, {"members", state["members"]}, {"contacts", state["contacts"]},
	} {
		if err := b.send(ctx, t.name, t.rows); err != nil {
			return err
		}
	}
	return nil
}

// tracer names the spans of the inserts, children of the projector's batch span: a trace from
// a command ends at the ClickHouse insert that made its event visible.
var tracer = otel.Tracer("github.com/evcrm/evcrm/services/analytics/internal/adapters/chwriter")

func (b *batch) send(ctx context.Context, table string, rows *columns) (err error) {
	if rows == nil || rows.rows == 0 {
		return nil
	}
	ctx, span := tracer.Start(ctx, "clickhouse insert "+table, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system", "clickhouse"), attribute.String("db.collection.name", table),
			attribute.Int("db.operation.batch.size", rows.rows)))
	defer func() {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}()
	nb, err := b.w.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+strings.Join(rows.names, ", ")+")")
	if err != nil {
		return fmt.Errorf("prepare insert into %s: %w", table, err)
	}
	defer nb.Abort() //nolint:errcheck // a no-op once sent
	if err := rows.appendTo(nb); err != nil {
		return fmt.Errorf("append to %s: %w", table, err)
	}
	if err := nb.Send(); err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	return nil
}
