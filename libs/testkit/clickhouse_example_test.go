package testkit_test

import (
	"testing"

	"github.com/evcrm/evcrm/libs/testkit"
)

// A package's tests share one ClickHouse server: TestMain hands control to testkit.Main, which
// stops the server after the last test.
func ExampleMain() {
	_ = func(m *testing.M) { // func TestMain(m *testing.M)
		testkit.Main(m)
	}
}

// Examples get no *testing.T, so this one only shows the shape of a test: a database of its
// own on the shared server, a table, a batch with the columns named, a query.
func ExampleSharedClickHouse() {
	_ = func(t *testing.T) { // func TestFunnel(t *testing.T)
		t.Parallel()
		ch := testkit.SharedClickHouse(t)
		conn := ch.ConnDatabase(t, ch.NewDatabase(t))
		ctx := t.Context()

		if err := conn.Exec(ctx, `CREATE TABLE stages (lead_id String, stage String, version UInt64)
			ENGINE = ReplacingMergeTree(version) ORDER BY lead_id`); err != nil {
			t.Fatal(err)
		}
		batch, err := conn.PrepareBatch(ctx, "INSERT INTO stages (lead_id, stage, version)")
		if err != nil {
			t.Fatal(err)
		}
		if err := batch.Append("l1", "mql", uint64(2)); err != nil {
			t.Fatal(err)
		}
		if err := batch.Send(); err != nil {
			t.Fatal(err)
		}
		var stage string
		if err := conn.QueryRow(ctx, "SELECT stage FROM stages FINAL WHERE lead_id = ?", "l1").Scan(&stage); err != nil {
			t.Fatal(err)
		}
	}
}

// A server of the test's own, for tests that restart it or must not share it.
func ExampleStartClickHouse() {
	_ = func(t *testing.T) {
		ch := testkit.StartClickHouse(t)
		conn := ch.Conn(t)
		_ = conn
		ch.Restart(t) // e.g. to check that a consumer retries its batch
	}
}
