package readmodel

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bulkBatches are a rebuild's batches: three of at least bulkMinRows new leads,
// then renames, a retag and deletes of some of them.
func bulkBatches() [][]LeadRow {
	g := newLeadGen(21, "acme", testBase, time.Hour)
	var out [][]LeadRow
	var all []LeadRow
	for range 3 {
		batch := make([]LeadRow, 150)
		for i := range batch {
			batch[i] = g.lead()
		}
		all = append(all, batch...)
		out = append(out, batch)
	}
	var changes []LeadRow
	for i := 0; i < len(all); i += 9 {
		r := all[i]
		r.LastName, r.Tags, r.Status, r.Sequence = r.LastName+"son", []string{"re-engaged"}, "RECYCLED", 1000
		changes = append(changes, r)
	}
	return append(out, changes)
}

// bulkDeletes are three leads of bulkBatches to delete.
func bulkDeletes(batches [][]LeadRow) []TenantID {
	return []TenantID{{"acme", batches[0][1].ID}, {"acme", batches[1][2].ID}, {"acme", batches[2][3].ID}}
}

// applyBatches applies the batches after sequence from with consecutive
// checkpoints, and deletes with the last one; it returns the last sequence.
func applyBatches(t *testing.T, s *Store, from uint64, batches [][]LeadRow, deletes []TenantID) uint64 {
	t.Helper()
	seq := from
	for i, b := range batches {
		seq += uint64(len(b))
		var del []TenantID
		if i == len(batches)-1 {
			del = deletes
		}
		require.NoError(t, s.Apply(context.Background(), testStream, seq, b, del))
	}
	return seq
}

// assertSameAnswers compares the answers of two stores to the queries the
// indexes serve.
func assertSameAnswers(t *testing.T, want, got *Store) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []ListQuery{
		{Tenant: "acme", PageSize: 7},
		{Tenant: "acme", Statuses: []string{"NEW", "RECYCLED"}, Owners: []string{"user-02", "user-03"}},
		{Tenant: "acme", Sort: SortLastName, Direction: Ascending, PageSize: 13},
		{Tenant: "acme", Sort: SortTotalScore, Tag: "re-engaged"},
		{Tenant: "acme", Sort: SortUpdatedAt, CampaignID: "cmp-007"},
	} {
		assert.Equal(t, ids(listAll(t, want, q)), ids(listAll(t, got, q)), "%+v", q)
	}
	for _, text := range []string{"s", "smithson", "e a", "anna", "müller", "zz"} {
		w, _, err := want.Search(ctx, SearchQuery{Tenant: "acme", Query: text, PageSize: MaxPageSize})
		require.NoError(t, err)
		g, _, err := got.Search(ctx, SearchQuery{Tenant: "acme", Query: text, PageSize: MaxPageSize})
		require.NoError(t, err)
		assert.Equal(t, ids(w), ids(g), "search %q", text)
	}
	indexes := func(s *Store) []string {
		rows, err := s.r.QueryContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL`)
		require.NoError(t, err)
		defs, err := scanStrings(rows)
		require.NoError(t, err)
		slices.Sort(defs)
		return defs
	}
	assert.Equal(t, indexes(want), indexes(got))
}

func scanStrings(rows interface {
	Next() bool
	Scan(...any) error
	Close() error
	Err() error
}) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func openBulkStore(t *testing.T, path string, idle time.Duration) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{ReadConns: 2, CacheKiB: 4096, bulkIdle: idle})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func reference(t *testing.T, batches [][]LeadRow) *Store {
	t.Helper()
	ref, err := Open(context.Background(), "", Options{ReadConns: 2, CacheKiB: 4096, NoBulkLoad: true})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ref.Close()) })
	seq := applyBatches(t, ref, 0, batches, bulkDeletes(batches))
	require.NoError(t, ref.WaitFor(context.Background(), testStream, seq), "no bulk load: at once")
	return ref
}

func assertWaitBlocks(t *testing.T, s *Store, seq uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, s.WaitFor(ctx, testStream, seq), context.DeadlineExceeded)
}

// A rebuild into an empty store is bulk loaded: the secondary indexes and the
// search index are built when it ends, and the store then answers exactly as
// one that applied the same batches row by row.
func TestBulkLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	batches := bulkBatches()
	ref := reference(t, batches)
	s := openBulkStore(t, "", time.Hour)

	seq := applyBatches(t, s, 0, batches, bulkDeletes(batches))
	var dropped int
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT count(*) FROM bulk_load`).Scan(&dropped))
	assert.Equal(t, 6, dropped)
	assertWaitBlocks(t, s, 1)
	ck, err := s.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, seq, ck[testStream], "the projector resumes from the stored checkpoint")
	// Meanwhile lists are answered without their indexes, and search finds
	// nothing yet.
	q := ListQuery{Tenant: "acme", Statuses: []string{"NEW"}, PageSize: 1000}
	assert.Equal(t, ids(listAll(t, ref, q)), ids(listAll(t, s, q)))
	found, _, err := s.Search(ctx, SearchQuery{Tenant: "acme", Query: "s"})
	require.NoError(t, err)
	assert.Empty(t, found)

	require.NoError(t, s.EndBulkLoad(ctx))
	require.NoError(t, s.WaitFor(ctx, testStream, seq))
	assertSameAnswers(t, ref, s)
	require.NoError(t, s.EndBulkLoad(ctx), "no bulk load: a no-op")

	// Later batches, however large, are applied row by row.
	g := newLeadGen(22, "acme", testBase, time.Hour)
	more := make([]LeadRow, 150)
	for i := range more {
		more[i] = g.lead()
	}
	require.NoError(t, s.Apply(ctx, testStream, seq+150, more, nil))
	require.NoError(t, ref.Apply(ctx, testStream, seq+150, more, nil))
	require.NoError(t, s.WaitFor(ctx, testStream, seq+150))
	assertSameAnswers(t, ref, s)
}

// With no Apply for the idle time the stream has nothing newer: the bulk load
// ends by itself.
func TestBulkLoadEndsWhenIdle(t *testing.T) {
	t.Parallel()
	batches := bulkBatches()
	ref := reference(t, batches)
	s := openBulkStore(t, "", 100*time.Millisecond)
	seq := applyBatches(t, s, 0, batches, bulkDeletes(batches))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.WaitFor(ctx, testStream, seq))
	assertSameAnswers(t, ref, s)
}

// A crash during a bulk load, or while ending it, leaves a file the projector
// finishes from its checkpoint.
func TestBulkLoadSurvivesCrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	batches := bulkBatches()
	ref := reference(t, batches)
	path := filepath.Join(t.TempDir(), "leads.db")
	s := openBulkStore(t, path, time.Hour)
	seq := applyBatches(t, s, 0, batches[:2], nil)
	require.NoError(t, s.Close())

	s = openBulkStore(t, path, time.Hour)
	assertWaitBlocks(t, s, 1)
	ck, err := s.Checkpoint(ctx)
	require.NoError(t, err)
	require.Equal(t, seq, ck[testStream])
	// The end of the load fails half-way (a crash in its transaction).
	tx, err := s.w.BeginTx(ctx, nil)
	require.NoError(t, err)
	require.NoError(t, finishBulk(ctx, tx))
	require.NoError(t, tx.Rollback())
	require.NoError(t, s.Close())

	s = openBulkStore(t, path, time.Hour)
	assertWaitBlocks(t, s, 1)
	seq = applyBatches(t, s, seq, batches[2:], bulkDeletes(batches))
	require.NoError(t, s.EndBulkLoad(ctx))
	require.NoError(t, s.WaitFor(ctx, testStream, seq))
	assertSameAnswers(t, ref, s)
}

// Small batches into an empty store, NoBulkLoad and Reset: no bulk load, or
// none left.
func TestBulkLoadNotTaken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	batches := bulkBatches()

	small := openBulkStore(t, "", time.Hour)
	require.NoError(t, small.Apply(ctx, testStream, 99, batches[0][:99], nil))
	require.NoError(t, small.WaitFor(ctx, testStream, 99), "a live-sized first batch")
	require.NoError(t, small.Apply(ctx, testStream, 249, batches[1], nil))
	require.NoError(t, small.WaitFor(ctx, testStream, 249), "not an empty store any more")

	reset := openBulkStore(t, "", time.Hour)
	applyBatches(t, reset, 0, batches[:1], nil)
	assertWaitBlocks(t, reset, 1)
	require.NoError(t, reset.Reset(ctx))
	seq := applyBatches(t, reset, 0, [][]LeadRow{batches[0][:50]}, nil)
	require.NoError(t, reset.WaitFor(ctx, testStream, seq))
	var n int
	require.NoError(t, reset.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'leads'`).Scan(&n))
	assert.Equal(t, 7, n, "Reset recreated every index")
	found, _, err := reset.Search(ctx, SearchQuery{Tenant: "acme", Query: batches[0][0].LastName})
	require.NoError(t, err)
	assert.NotEmpty(t, found)
}
