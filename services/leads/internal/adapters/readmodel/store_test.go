package readmodel

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fullRow() LeadRow {
	return LeadRow{
		ID: "lead-1", Tenant: "acme",
		FirstName: "Ada", LastName: "Lovelace", Email: "ada@analytical.example", Phone: "+44 20 0000",
		Company: "Analytical Engines Ltd", JobTitle: "CTO", Country: "GB", Region: "London", City: "London",
		Industry: "software", Source: "REFERRAL", CampaignID: "cmp-7", Owner: "user-1", Territory: "uk-ie",
		Status: "NEW", Temperature: "WARM", FitScore: 40, EngagementScore: 12, TotalScore: 52,
		Tags:      []string{"vip", "beta", "vip"},
		CreatedAt: time.Date(2025, 3, 1, 10, 0, 0, 123456789, time.UTC),
		UpdatedAt: time.Date(2025, 3, 2, 11, 0, 0, 5, time.UTC),
		Version:   3, Sequence: 17, Doc: []byte{0x0a, 0x06, 'l', 'e', 'a', 'd', 0x00, 0xff},
	}
}

func TestApplyGetRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t)
	in := fullRow()
	require.NoError(t, s.Apply(ctx, testStream, 17, []LeadRow{in}, nil))

	got, err := s.Get(ctx, "acme", "lead-1")
	require.NoError(t, err)
	want := in
	want.Tags = []string{"vip", "beta"} // a set: the duplicate is dropped
	assert.Equal(t, want, got)

	_, err = s.Get(ctx, "acme", "nope")
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.Get(ctx, "other", "lead-1")
	assert.ErrorIs(t, err, ErrNotFound, "another tenant never sees the lead")

	ck, err := s.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{testStream: 17}, ck)
}

func TestApplyUpdateTagsSearchAndDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t)
	r := fullRow()
	require.NoError(t, s.Apply(ctx, testStream, 17, []LeadRow{r}, nil))

	// Rename, retag, rescore.
	r.LastName, r.Tags, r.TotalScore, r.Sequence = "Byron", []string{"beta", "enterprise"}, 90, 18
	require.NoError(t, s.Apply(ctx, testStream, 18, []LeadRow{r}, nil))
	got, err := s.Get(ctx, "acme", "lead-1")
	require.NoError(t, err)
	assert.Equal(t, "Byron", got.LastName)
	assert.Equal(t, []string{"beta", "enterprise"}, got.Tags)

	// Only indexed columns changed: the indexes follow.
	r.Status, r.Owner, r.UpdatedAt, r.Sequence = "SALES_QUALIFIED", "user-9", r.UpdatedAt.Add(time.Hour), 18
	require.NoError(t, s.Apply(ctx, testStream, 18, []LeadRow{r}, nil))
	for _, q := range []ListQuery{
		{Tenant: "acme", Statuses: []string{"SALES_QUALIFIED"}, Owners: []string{"user-9"}},
		{Tenant: "acme", Owners: []string{"user-9"}, Sort: SortUpdatedAt, UpdatedFrom: r.UpdatedAt},
		{Tenant: "acme", MinTotalScore: intp(90), Sort: SortTotalScore},
	} {
		rows, _, err := s.List(ctx, q)
		require.NoError(t, err)
		assert.Len(t, rows, 1, "%+v", q)
	}
	rows, _, err := s.List(ctx, ListQuery{Tenant: "acme", Statuses: []string{"NEW"}})
	require.NoError(t, err)
	assert.Empty(t, rows)

	for tag, n := range map[string]int{"vip": 0, "beta": 1, "enterprise": 1} {
		rows, _, err := s.List(ctx, ListQuery{Tenant: "acme", Tag: tag})
		require.NoError(t, err)
		assert.Len(t, rows, n, "tag %s", tag)
	}
	for q, n := range map[string]int{"lovelace": 0, "byron": 1, "byr": 1} {
		rows, _, err := s.Search(ctx, SearchQuery{Tenant: "acme", Query: q})
		require.NoError(t, err)
		assert.Len(t, rows, n, "search %q", q)
	}

	// A stale upsert (older sequence) is ignored; the checkpoint never
	// moves back.
	stale := fullRow()
	stale.Sequence = 10
	require.NoError(t, s.Apply(ctx, testStream, 10, []LeadRow{stale}, nil))
	got, err = s.Get(ctx, "acme", "lead-1")
	require.NoError(t, err)
	assert.Equal(t, "Byron", got.LastName)
	ck, err := s.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(18), ck[testStream])

	// Delete removes the row, its tags and its search entry.
	require.NoError(t, s.Apply(ctx, testStream, 19, nil, []TenantID{{"acme", "lead-1"}, {"acme", "never-existed"}}))
	_, err = s.Get(ctx, "acme", "lead-1")
	assert.ErrorIs(t, err, ErrNotFound)
	rows, _, err = s.List(ctx, ListQuery{Tenant: "acme", Tag: "beta"})
	require.NoError(t, err)
	assert.Empty(t, rows)
	rows, _, err = s.Search(ctx, SearchQuery{Tenant: "acme", Query: "byron"})
	require.NoError(t, err)
	assert.Empty(t, rows)
}

func TestApplyRejectsBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t)
	tests := []struct {
		name    string
		stream  string
		upserts []LeadRow
		deletes []TenantID
	}{
		{"empty stream", "", nil, nil},
		{"row without tenant", testStream, []LeadRow{{ID: "x"}}, nil},
		{"row without id", testStream, []LeadRow{{Tenant: "acme"}}, nil},
		{"delete without id", testStream, nil, []TenantID{{Tenant: "acme"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Apply(ctx, tt.stream, 1, tt.upserts, tt.deletes)
			assert.ErrorIs(t, err, ErrBadRow)
		})
	}
}

// A batch that fails half-way leaves neither rows nor checkpoint behind, and
// wakes no waiter.
func TestApplyIsAtomic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t)
	first := fullRow()
	require.NoError(t, s.Apply(ctx, testStream, 5, []LeadRow{first}, nil))
	_, err := s.w.ExecContext(ctx, `CREATE TRIGGER boom BEFORE INSERT ON leads WHEN NEW.id = 'boom'
		BEGIN SELECT RAISE(ABORT, 'injected failure'); END`)
	require.NoError(t, err)

	good := fullRow()
	good.ID, good.Sequence = "lead-2", 6
	changed := fullRow()
	changed.LastName, changed.Sequence = "Changed", 6
	boom := fullRow()
	boom.ID = "boom"
	err = s.Apply(ctx, testStream, 7, []LeadRow{good, changed, boom}, []TenantID{{"acme", "lead-1"}})
	require.ErrorContains(t, err, "injected failure")

	_, err = s.Get(ctx, "acme", "lead-2")
	assert.ErrorIs(t, err, ErrNotFound)
	got, err := s.Get(ctx, "acme", "lead-1")
	require.NoError(t, err)
	assert.Equal(t, "Lovelace", got.LastName)
	rows, _, err := s.Search(ctx, SearchQuery{Tenant: "acme", Query: "changed"})
	require.NoError(t, err)
	assert.Empty(t, rows)
	ck, err := s.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(5), ck[testStream])
	wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, s.WaitFor(wctx, testStream, 7), context.DeadlineExceeded)
}

func TestWaitFor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("already reached", func(t *testing.T) {
		t.Parallel()
		s := openTestStore(t)
		require.NoError(t, s.Apply(ctx, testStream, 3, nil, nil))
		require.NoError(t, s.WaitFor(ctx, testStream, 3))
		require.NoError(t, s.WaitFor(ctx, testStream, 0))
		require.NoError(t, s.WaitFor(ctx, "OTHER", 0))
	})
	t.Run("wakes on apply", func(t *testing.T) {
		t.Parallel()
		s := openTestStore(t)
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		for range 3 {
			wg.Go(func() {
				wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				errs <- s.WaitFor(wctx, testStream, 10)
			})
		}
		require.NoError(t, s.Apply(ctx, testStream, 4, nil, nil))  // not far enough
		require.NoError(t, s.Apply(ctx, "OTHER", 100, nil, nil))   // other stream
		require.NoError(t, s.Apply(ctx, testStream, 12, nil, nil)) // passes 10
		wg.Wait()
		close(errs)
		for err := range errs {
			assert.NoError(t, err)
		}
	})
	t.Run("honours ctx", func(t *testing.T) {
		t.Parallel()
		s := openTestStore(t)
		wctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
		defer cancel()
		start := time.Now()
		assert.ErrorIs(t, s.WaitFor(wctx, testStream, 1), context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 5*time.Second)
		cctx, cancel2 := context.WithCancel(ctx)
		cancel2()
		assert.ErrorIs(t, s.WaitFor(cctx, testStream, 1), context.Canceled)
	})
	t.Run("close wakes waiters", func(t *testing.T) {
		t.Parallel()
		s, err := Open(ctx, "", Options{})
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() { done <- s.WaitFor(ctx, testStream, 1) }()
		time.Sleep(10 * time.Millisecond)
		require.NoError(t, s.Close())
		select {
		case err := <-done:
			assert.ErrorIs(t, err, ErrClosed)
		case <-time.After(5 * time.Second):
			t.Fatal("WaitFor not woken by Close")
		}
		assert.ErrorIs(t, s.Apply(ctx, testStream, 1, nil, nil), ErrClosed)
	})
}

func TestReopenKeepsRowsAndCheckpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "leads.db")
	s, err := Open(ctx, path, Options{})
	require.NoError(t, err)
	rows := seed(t, s, "acme", 150, 1)
	require.NoError(t, s.Close())

	s, err = Open(ctx, path, Options{})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	ck, err := s.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{testStream: 150}, ck)
	require.NoError(t, s.WaitFor(ctx, testStream, 150), "in-memory checkpoint loaded on open")
	got, err := s.Get(ctx, "acme", rows[42].ID)
	require.NoError(t, err)
	assert.Equal(t, rows[42].LastName, got.LastName)
	all := listAll(t, s, ListQuery{Tenant: "acme", PageSize: 1000})
	assert.Len(t, all, 150)
	found, _, err := s.Search(ctx, SearchQuery{Tenant: "acme", Query: rows[42].Email})
	require.NoError(t, err)
	assert.Contains(t, ids(found), rows[42].ID)
	var version int
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&version))
	ms, err := migrations()
	require.NoError(t, err)
	assert.Equal(t, ms[len(ms)-1].version, version, "migrations recorded once, not re-applied")
}

func TestReset(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t)
	rows := seed(t, s, "acme", 50, 2)
	require.NoError(t, s.Reset(ctx))

	ck, err := s.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Empty(t, ck)
	all, _, err := s.List(ctx, ListQuery{Tenant: "acme"})
	require.NoError(t, err)
	assert.Empty(t, all)
	found, _, err := s.Search(ctx, SearchQuery{Tenant: "acme", Query: rows[0].LastName})
	require.NoError(t, err)
	assert.Empty(t, found)
	tagged, _, err := s.List(ctx, ListQuery{Tenant: "acme", Tag: "vip"})
	require.NoError(t, err)
	assert.Empty(t, tagged)

	// The rebuilt store works as a new one.
	seed(t, s, "acme", 50, 2)
	all = listAll(t, s, ListQuery{Tenant: "acme"})
	assert.Len(t, all, 50)
	found, _, err = s.Search(ctx, SearchQuery{Tenant: "acme", Query: rows[0].LastName})
	require.NoError(t, err)
	assert.NotEmpty(t, found)
}

// Reads run concurrently with the writer (WAL snapshots); -race checks the
// store's own state.
func TestConcurrentReadsDuringWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t)
	g := newLeadGen(9, "acme", testBase, time.Second)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := s.List(ctx, ListQuery{Tenant: "acme", Statuses: []string{"NEW"}}); err != nil {
					t.Error(err)
					return
				}
				if _, _, err := s.Search(ctx, SearchQuery{Tenant: "acme", Query: "sm"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for b := range 20 {
		batch := make([]LeadRow, 25)
		for i := range batch {
			batch[i] = g.lead()
		}
		require.NoError(t, s.Apply(ctx, testStream, uint64((b+1)*25), batch, nil))
	}
	close(stop)
	wg.Wait()
	require.NoError(t, s.WaitFor(ctx, testStream, 500))
}

func TestOpenRejectsNewerSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "leads.db")
	s, err := Open(ctx, path, Options{})
	require.NoError(t, err)
	_, err = s.w.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = Open(ctx, path, Options{})
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrClosed))
	assert.Contains(t, err.Error(), "newer")
}

// Several changes to the search index in one batch: a lead renamed twice, a
// lead created and renamed, and a deleted lead whose row key SQLite hands to
// a lead created in the same batch.
func TestApplySearchIndexWithinOneBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t)
	mk := func(id, last string, seq uint64) LeadRow {
		r := fullRow()
		r.ID, r.LastName, r.Sequence, r.Email, r.Company = id, last, seq, "", ""
		return r
	}
	require.NoError(t, s.Apply(ctx, testStream, 2, []LeadRow{mk("a", "Alpha", 1), mk("z", "Zulu", 2)}, nil))
	require.NoError(t, s.Apply(ctx, testStream, 7,
		[]LeadRow{mk("a", "Bravo", 3), mk("a", "Charlie", 4), mk("n", "Delta", 5), mk("n", "Echo", 6), mk("y", "Foxtrot", 7)},
		[]TenantID{{"acme", "z"}}))
	for q, want := range map[string][]string{
		"alpha": nil, "bravo": nil, "charlie": {"a"}, "delta": nil, "echo": {"n"}, "zulu": nil, "foxtrot": {"y"},
	} {
		rows, _, err := s.Search(ctx, SearchQuery{Tenant: "acme", Query: q})
		require.NoError(t, err)
		assert.Equal(t, want, nilIfEmpty(ids(rows)), "search %q", q)
	}
}
