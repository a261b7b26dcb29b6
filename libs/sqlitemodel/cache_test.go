package sqlitemodel_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/sqlitemodel"
)

// TestCacheSizes checks the page-cache bounds each connection gets: they are what a read model
// costs in memory (docs/operations.md#memory), so a changed default must be a decision.
func TestCacheSizes(t *testing.T) {
	for _, tc := range []struct {
		name               string
		opts               sqlitemodel.Options
		writerKiB, readKiB int
	}{
		{"defaults, mapped", sqlitemodel.Options{}, 8 << 10, 1 << 10},
		{"not mapped: readers get a quarter of the writer's", sqlitemodel.Options{MmapBytes: -1}, 8 << 10, 2 << 10},
		{"explicit", sqlitemodel.Options{CacheKiB: 4096, ReadCacheKiB: 3000}, 4096, 3000},
		{"small writer, not mapped: at least 1 MiB", sqlitemodel.Options{CacheKiB: 2048, MmapBytes: -1}, 2048, 1 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := sqlitemodel.Open(context.Background(), "", schema, tc.opts)
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			var writer, reader int
			require.NoError(t, db.Write(context.Background(), func(tx *sql.Tx) (map[string]uint64, error) {
				return nil, tx.QueryRow(`PRAGMA cache_size`).Scan(&writer)
			}))
			require.NoError(t, db.R.QueryRow(`PRAGMA cache_size`).Scan(&reader))
			// A negative cache_size is in KiB.
			require.Equal(t, -tc.writerKiB, writer, "writer")
			require.Equal(t, -tc.readKiB, reader, "reader")
		})
	}
}
