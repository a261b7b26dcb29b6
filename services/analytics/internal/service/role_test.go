package service_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chsnapshot"
	"github.com/evcrm/evcrm/services/analytics/internal/ports/projector"
	"github.com/evcrm/evcrm/services/analytics/internal/service"
)

// TestRoleSplit runs the two halves of the service as separate instances on one NATS and one
// ClickHouse: a query-only instance consumes nothing — it creates no consumer, and what is
// appended stays out of ClickHouse however long it waits — until a projector-only instance
// starts; then the history is projected, and the query-only instance answers every metric
// with the hand-computed figures of the metric test.
func TestRoleSplit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testkit.SharedClickHouse(t))
	query := startRole(t, e, service.RoleQuery)
	if names := workerNames(query); slices.Contains(names, "analytics-projector") {
		t.Fatalf("a query-only instance runs the projector: %v", names)
	}
	e.salesHistory()
	e.otherTenantHistory()
	time.Sleep(1500 * time.Millisecond) // 30 batch waits of the instance
	for _, s := range projector.Streams {
		if _, err := e.js.Consumer(t.Context(), s, projector.ConsumerName(projector.DefaultName, s)); !errors.Is(err, jetstream.ErrConsumerNotFound) {
			t.Errorf("consumer on %s after a query-only start: %v, want none", s, err)
		}
	}
	if n := lines(t, e.conn, "count()", "FROM events")[0]; n != "0" {
		t.Fatalf("a query-only instance projected %s events", n)
	}
	st, err := query.App.ProjectionStatus(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var pending uint64
	for _, s := range st.Streams {
		pending += s.Pending
	}
	if pending != uint64(e.n) {
		t.Errorf("status of a query-only instance before any projector: %d pending, want %d", pending, e.n)
	}

	proj := startRole(t, e, service.RoleProjector)
	if names := workerNames(proj); !slices.Contains(names, "analytics-projector") || slices.Contains(names, "analytics-snapshots") {
		t.Fatalf("a projector-only instance does not run the projector, or takes snapshots: %v", names)
	}
	if names := workerNames(query); !slices.Contains(names, "analytics-snapshots") {
		t.Fatalf("a query-only instance takes no snapshots: %v", names)
	}
	waitProjected(t, query.App)
	checkAcme(t, snapshot(t, query, tenantA))
	checkGlobex(t, snapshot(t, query, tenantB))

	// The query instance's snapshots catch up with what was projected, and the metrics read
	// from them are the same.
	waitSnapshots(t, query, e.conn, 30*time.Second)
	checkAcme(t, snapshot(t, query, tenantA))
	checkGlobex(t, snapshot(t, query, tenantB))
}

func TestParseRole(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]service.Role{"": service.RoleAll, "all": service.RoleAll,
		"projector": service.RoleProjector, "query": service.RoleQuery} {
		if got, err := service.ParseRole(in); err != nil || got != want {
			t.Errorf("ParseRole(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := service.ParseRole("both"); err == nil {
		t.Error("ParseRole accepted \"both\"")
	}
}

// startRole runs an instance of role on env's NATS and database until the test ends.
func startRole(t *testing.T, e *env, role service.Role) *service.Service {
	t.Helper()
	svc, err := service.New(t.Context(), e.nc, service.Options{
		ClickHouse: service.ClickHouseOptions{Addr: e.ch.Addr(), Database: e.db, User: "default"},
		BatchSize:  50, BatchWait: 50 * time.Millisecond, Backoff: []time.Duration{100 * time.Millisecond}, Role: role,
		Snapshots: chsnapshot.Options{Check: 100 * time.Millisecond, MinInterval: 100 * time.Millisecond},
	})
	if err != nil {
		t.Fatalf("service.New (%s): %v", role, err)
	}
	runWorkers(t, svc)
	return svc
}

func workerNames(svc *service.Service) []string {
	var out []string
	for _, w := range svc.Workers() {
		out = append(out, w.Name)
	}
	return out
}
