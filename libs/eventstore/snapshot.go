package eventstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// SnapshotStore keeps aggregates' folded states next to a service replica, so that loading an
// aggregate missing from the in-memory cache does not read its history from the stream.
//
// Why it exists: JetStream's file store reads a whole message block (up to 8 MiB) to serve
// one message that is not in its cache, and a subject-filtered read walks every block between
// an aggregate's first and last event. An aggregate whose events are spread over a large
// stream (a lead touched once a week for a year) then costs a read of megabytes per cold load:
// measured 0.75 ms at 20,000 events and 11.8 ms at 300,000 (BenchmarkSparseLoad), growing with
// the stream. A snapshot makes that load a local point read.
//
// A snapshot is a cache, never the truth: a command decided on one is appended with the
// snapshot's stream sequence as the expected last sequence, so a snapshot that missed events
// (written by another replica, or lost in a crash) fails the append and the aggregate is read
// from the stream; a command rejected, or found to change nothing, on such a state is decided
// again on a state read from the stream before the answer is given.
type SnapshotStore interface {
	// GetSnapshot returns the snapshot stored under key, if any.
	GetSnapshot(ctx context.Context, key string) (Snapshot, bool, error)
	// PutSnapshot stores s unless a snapshot of a later position is stored under its key. It
	// may return before s is durable and may drop it under pressure.
	PutSnapshot(s Snapshot)
}

// Snapshot is an aggregate's folded state at a position of the log.
type Snapshot struct {
	// Key identifies the aggregate (Ref.String()).
	Key string
	// Schema names the state's encoding; a snapshot of another schema is ignored.
	Schema   string
	Position Position
	// State is the state's JSON encoding.
	State []byte
}

// snapshotSchema names the encoding of S: the aggregate type, a hash of S's shape (field
// names and types, recursively) and the caller's version. A change of S's fields therefore
// retires the stored snapshots by itself; a change of the fold that keeps the fields must bump
// RepositoryOptions.SnapshotVersion.
func snapshotSchema[S any](aggregateType, version string) (string, error) {
	t := reflect.TypeFor[S]()
	var b strings.Builder
	if err := describeType(&b, t, map[reflect.Type]bool{}); err != nil {
		return "", fmt.Errorf("eventstore: state %s cannot be snapshotted: %w", t, err)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return aggregateType + "/" + hex.EncodeToString(sum[:8]) + "/" + version, nil
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
)

// describeType writes t's shape and fails for what encoding/json would not round-trip:
// unexported fields (silently dropped), interfaces, funcs and channels.
func describeType(b *strings.Builder, t reflect.Type, seen map[reflect.Type]bool) error {
	if t == timeType || t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType) {
		b.WriteString(t.String())
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if seen[t] {
			b.WriteString(t.String())
			return nil
		}
		seen[t] = true
		b.WriteString(t.String() + "{")
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				return fmt.Errorf("field %s.%s is unexported", t, f.Name)
			}
			b.WriteString(f.Name + " " + string(f.Tag) + ":")
			if err := describeType(b, f.Type, seen); err != nil {
				return err
			}
			b.WriteString(";")
		}
		b.WriteString("}")
	case reflect.Pointer, reflect.Slice, reflect.Array:
		b.WriteString(t.Kind().String() + " ")
		return describeType(b, t.Elem(), seen)
	case reflect.Map:
		b.WriteString("map[" + t.Key().String() + "]")
		return describeType(b, t.Elem(), seen)
	case reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return fmt.Errorf("%s of kind %s does not round-trip through JSON", t, t.Kind())
	default:
		b.WriteString(t.String())
	}
	return nil
}

// fromSnapshot returns the aggregate stored in the snapshot store, if any.
func (r *Repository[S, E]) fromSnapshot(ctx context.Context, ref Ref) (Aggregate[S], bool) {
	if r.opts.Snapshots == nil {
		return Aggregate[S]{}, false
	}
	snap, ok, err := r.opts.Snapshots.GetSnapshot(ctx, ref.String())
	switch {
	case err != nil:
		snapshotLoads.WithLabelValues(r.typ, "error").Inc()
		return Aggregate[S]{}, false
	case !ok:
		snapshotLoads.WithLabelValues(r.typ, "miss").Inc()
		return Aggregate[S]{}, false
	case snap.Schema != r.schema:
		snapshotLoads.WithLabelValues(r.typ, "stale_schema").Inc()
		return Aggregate[S]{}, false
	}
	state := r.initial()
	if err := json.Unmarshal(snap.State, &state); err != nil {
		snapshotLoads.WithLabelValues(r.typ, "error").Inc()
		return Aggregate[S]{}, false
	}
	snapshotLoads.WithLabelValues(r.typ, "hit").Inc()
	return Aggregate[S]{Ref: ref, State: state, Position: snap.Position, snapVersion: snap.Position.Version, snapBytes: len(snap.State)}, true
}

// snapshotBytesPerEvent paces the snapshots of large states: after a snapshot of n bytes the
// next one is taken n/snapshotBytesPerEvent events later (at least one). Encoding a state costs
// time in proportion to its size on every command that snapshots it: an opportunity moved
// through 10,000 stages has a state of about a megabyte, and encoding it after every command
// was most of MoveStage's time (BenchmarkMoveStageHistory). With the pace, encoding costs at
// most about this many bytes per event, and a cold load reads at most that many events after
// its snapshot from the stream, where a small state (the common case) is still stored after
// every command and loads with no read of the stream at all.
const snapshotBytesPerEvent = 4096

// snapshot hands the aggregate's state to the snapshot store when one is due (see
// snapshotBytesPerEvent), and records it in agg. A state that cannot be encoded is not stored:
// the next cold load reads the stream, as without a store.
func (r *Repository[S, E]) snapshot(agg *Aggregate[S]) {
	if r.opts.Snapshots == nil || agg.Position.Version == 0 {
		return
	}
	if agg.snapVersion > 0 && agg.Position.Version < agg.snapVersion+max(1, uint64(agg.snapBytes/snapshotBytesPerEvent)) {
		return
	}
	data, err := json.Marshal(agg.State)
	if err != nil {
		return
	}
	agg.snapVersion, agg.snapBytes = agg.Position.Version, len(data)
	r.opts.Snapshots.PutSnapshot(Snapshot{Key: agg.Ref.String(), Schema: r.schema, Position: agg.Position, State: data})
}
