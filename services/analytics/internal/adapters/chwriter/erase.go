package chwriter

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/evcrm/evcrm/libs/pii"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
)

// erasures are the events after which a person's clear-text history is scrubbed.
var erasures = map[string]bool{"crm.leads.v1.LeadErased": true, "crm.leads.v1.ContactErased": true}

// mutationWait bounds how long scrubErased waits for ClickHouse to finish its mutation.
const mutationWait = 2 * time.Minute

// scrubErased removes the personal fields from events.payload_json of the people erased in
// ds. Events sealed by the leads service never had them there (their payload arrives without
// personal fields); events written in clear before sealing existed did. It reads the person's
// rows, strips the marked fields (pii.Strip) and rewrites the changed ones with one
// ALTER TABLE … UPDATE, then waits for the mutation, which rewrites every part holding the
// rows (duplicates of a ReplacingMergeTree included), so no query reads the old values
// afterwards. The replaced parts stay on disk until ClickHouse removes inactive parts
// (old_parts_lifetime, 8 minutes by default). Nothing to rewrite: no mutation.
func (w *Writer) scrubErased(ctx context.Context, ds []decoded) error {
	for _, d := range ds {
		env := d.Envelope
		if !erasures[env.GetEventType()] {
			continue
		}
		if err := w.scrubAggregate(ctx, env.GetTenantId(), env.GetAggregateType(), env.GetAggregateId()); err != nil {
			return fmt.Errorf("scrub %s/%s/%s: %w", env.GetTenantId(), env.GetAggregateType(), env.GetAggregateId(), err)
		}
	}
	return nil
}

func (w *Writer) scrubAggregate(ctx context.Context, tenant, typ, id string) error {
	where := "tenant = " + Quote(tenant) + " AND aggregate_type = " + Quote(typ) + " AND aggregate_id = " + Quote(id)
	rows, err := w.conn.Query(ctx, "SELECT stream, seq, event_type_full, payload_json FROM events WHERE "+where)
	if err != nil {
		return err
	}
	var cases []string
	seen := map[string]bool{}
	for rows.Next() {
		var stream, typeName, body string
		var seq uint64
		if err := rows.Scan(&stream, &seq, &typeName, &body); err != nil {
			rows.Close()
			return err
		}
		cond := "stream = " + Quote(stream) + " AND seq = " + fmt.Sprint(seq)
		if seen[cond] {
			continue // a redelivered copy: the mutation rewrites all rows of (stream, seq)
		}
		mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(typeName))
		if err != nil {
			continue // a type this build does not know holds no field it could strip
		}
		msg := mt.New().Interface()
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal([]byte(body), msg); err != nil || !pii.Strip(msg) {
			continue
		}
		clean, err := jsonOpts.Marshal(msg)
		if err != nil {
			rows.Close()
			return err
		}
		seen[cond] = true
		cases = append(cases, cond, Quote(string(clean)))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(cases) == 0 {
		return nil
	}
	table := "events"
	if w.opts.Cluster != "" {
		// The rows live in the shards' local tables; the ALTER returns once every host has
		// scheduled its mutation (distributed DDL), each replica then runs it on its parts. A
		// distributed DDL names its table with the database (as chschema's cluster mode does).
		var db string
		if err := w.conn.QueryRow(ctx, "SELECT currentDatabase()").Scan(&db); err != nil {
			return err
		}
		table = db + ".events" + chschema.LocalSuffix + " ON CLUSTER " + w.opts.Cluster
	}
	q := "ALTER TABLE " + table + " UPDATE payload_json = multiIf(" + strings.Join(cases, ", ") + ", payload_json) WHERE " + where
	if err := w.conn.Exec(ctx, q); err != nil {
		return err
	}
	return w.waitMutations(ctx)
}

// waitMutations waits until no mutation of events (events_local in cluster mode) is pending
// on the server this writer is connected to (18.16 has no mutations_sync; the other hosts of
// a cluster finish theirs on their own).
func (w *Writer) waitMutations(ctx context.Context) error {
	table := "events"
	if w.opts.Cluster != "" {
		table += chschema.LocalSuffix
	}
	deadline := time.Now().Add(mutationWait)
	for {
		var pending uint64
		if err := w.conn.QueryRow(ctx, "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND table = '"+table+"' AND is_done = 0").Scan(&pending); err != nil {
			return err
		}
		if pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the mutation of %s did not finish within %s", table, mutationWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
