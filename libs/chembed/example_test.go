package chembed_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/evcrm/evcrm/libs/chembed"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "chembed-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// Free ports are picked; an analyst user that can read and bound its queries is declared.
	srv, err := chembed.Start(ctx, chembed.Config{
		Dir:   dir,
		Users: []chembed.User{{Name: "analyst", Password: "secret", Readonly: 2}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()

	conn, err := srv.Open(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	if err := conn.Exec(ctx, `CREATE TABLE stages (lead_id String, stage String, version UInt64)
		ENGINE = ReplacingMergeTree(version) ORDER BY lead_id`); err != nil {
		log.Fatal(err)
	}
	// ClickHouse 18.16 wants the columns named in every INSERT.
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO stages (lead_id, stage, version)")
	if err != nil {
		log.Fatal(err)
	}
	for _, row := range [][]any{{"l1", "new", uint64(1)}, {"l1", "mql", uint64(2)}, {"l2", "new", uint64(1)}} {
		if err := batch.Append(row...); err != nil {
			log.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		log.Fatal(err)
	}

	rows, err := conn.Query(ctx, "SELECT lead_id, stage FROM stages FINAL ORDER BY lead_id")
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var lead, stage string
		if err := rows.Scan(&lead, &stage); err != nil {
			log.Fatal(err)
		}
		fmt.Println(lead, stage)
	}
	if err := rows.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// l1 mql
	// l2 new
}
