package readmodel

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListFilters(t *testing.T) {
	t.Parallel()
	t.Run("tag drives", func(t *testing.T) {
		t.Parallel()
		testListFilters(t, openTestStore(t))
	})
	t.Run("tag probed", func(t *testing.T) {
		t.Parallel()
		s := openTestStore(t)
		s.tagDriveMax = 0 // every tag counts as common
		testListFilters(t, s)
	})
}

func testListFilters(t *testing.T, s *Store) {
	rows := seed(t, s, "acme", 400, 3)
	rows = append(rows, seed(t, s, "globex", 100, 4)...)
	campaign := ""
	for _, r := range rows {
		if r.CampaignID != "" {
			campaign = r.CampaignID
			break
		}
	}

	tests := []struct {
		name string
		q    ListQuery
	}{
		{"no filter", ListQuery{}},
		{"one status", ListQuery{Statuses: []string{"NEW"}}},
		{"status set", ListQuery{Statuses: []string{"NEW", "SALES_QUALIFIED", "NEW"}}},
		{"owner", ListQuery{Owners: []string{"user-02"}}},
		{"status and owner", ListQuery{Statuses: []string{"NEW"}, Owners: []string{"user-02", "user-03"}}},
		{"territory", ListQuery{Territories: []string{"dach", "uk-ie"}}},
		{"source", ListQuery{Sources: []string{"WEB_FORM"}}},
		{"tag", ListQuery{Tag: "vip"}},
		{"tag and status", ListQuery{Tag: "newsletter", Statuses: []string{"NEW", "RECYCLED"}}},
		{"temperature", ListQuery{Temperatures: []string{"HOT"}}},
		{"score min", ListQuery{MinTotalScore: intp(7)}},
		{"score range", ListQuery{MinTotalScore: intp(3), MaxTotalScore: intp(5)}},
		{"created from", ListQuery{CreatedFrom: testBase.Add(2 * time.Hour)}},
		{"created window", ListQuery{CreatedFrom: testBase.Add(time.Hour), CreatedTo: testBase.Add(3 * time.Hour)}},
		{"updated window", ListQuery{UpdatedFrom: testBase.Add(time.Minute), UpdatedTo: testBase.Add(2 * time.Minute)}},
		{"campaign", ListQuery{CampaignID: campaign}},
		{"no match", ListQuery{Owners: []string{"nobody"}}},
		{"everything", ListQuery{Statuses: []string{"NEW", "MARKETING_QUALIFIED"}, Sources: []string{"WEB_FORM", "EMAIL"},
			Temperatures: []string{"COLD", "WARM"}, MinTotalScore: intp(1), CreatedFrom: testBase.Add(time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := tt.q
			q.Tenant, q.PageSize = "acme", 1000
			want := expectList(rows, q)
			got, next, err := s.List(context.Background(), q)
			require.NoError(t, err)
			assert.Empty(t, next)
			assert.Equal(t, want, ids(got))
			if tt.name != "no match" {
				assert.NotEmpty(t, want, "the case should select something")
			}
			for _, r := range got {
				assert.Equal(t, "acme", r.Tenant)
			}
		})
	}
}

// Paging through every sort order, in both directions and several page sizes,
// yields exactly the reference order: no duplicate, no gap, ties included.
func TestListPagingAllSorts(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	rows := seed(t, s, "acme", 120, 5)
	for _, sort := range []SortField{SortCreatedAt, SortUpdatedAt, SortTotalScore, SortLastName} {
		for _, dir := range []SortDirection{Descending, Ascending} {
			for _, size := range []int{1, 7, 50} {
				name := string(sort) + map[SortDirection]string{Descending: "/desc", Ascending: "/asc"}[dir]
				t.Run(name+"/"+string(rune('0'+size%10)), func(t *testing.T) {
					t.Parallel()
					q := ListQuery{Tenant: "acme", Sort: sort, Direction: dir, PageSize: size}
					got := ids(listAll(t, s, q))
					assert.Equal(t, expectList(rows, q), got)
					// With a filter too.
					q.Statuses = []string{"NEW", "DISQUALIFIED"}
					assert.Equal(t, expectList(rows, q), ids(listAll(t, s, q)))
				})
			}
		}
	}
}

// Rows written between two pages do not shift the cursor: the rows after it
// are neither repeated nor skipped.
func TestListPagingStableUnderInserts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t)
	rows := seed(t, s, "acme", 100, 6)
	q := ListQuery{Tenant: "acme", Sort: SortCreatedAt, Direction: Ascending, PageSize: 30}
	page1, next, err := s.List(ctx, q)
	require.NoError(t, err)
	// A lead created before the cursor position.
	early := fullRow()
	early.ID, early.Tenant, early.CreatedAt, early.UpdatedAt = "aaa-early", "acme", testBase.Add(-time.Hour), testBase
	require.NoError(t, s.Apply(ctx, testStream, 101, []LeadRow{early}, nil))
	q.PageToken = next
	rest := listAll(t, s, q)
	want := expectList(rows, ListQuery{Tenant: "acme", Sort: SortCreatedAt, Direction: Ascending})
	assert.Equal(t, want, append(ids(page1), ids(rest)...))
}

func TestListBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t)
	seed(t, s, "acme", 30, 7)
	base := ListQuery{Tenant: "acme", Statuses: []string{"NEW", "DISQUALIFIED", "MARKETING_QUALIFIED"}, PageSize: 2}
	_, token, err := s.List(ctx, base)
	require.NoError(t, err)
	require.NotEmpty(t, token)
	_, searchToken, err := s.Search(ctx, SearchQuery{Tenant: "acme", Query: "a", PageSize: 1})
	require.NoError(t, err)
	require.NotEmpty(t, searchToken)

	// The same query with set members reordered or repeated and another
	// page size accepts the token.
	same := base
	same.Statuses = []string{"MARKETING_QUALIFIED", "NEW", "DISQUALIFIED", "NEW"}
	same.PageSize, same.PageToken = 5, token
	_, _, err = s.List(ctx, same)
	require.NoError(t, err)

	tests := []struct {
		name    string
		mutate  func(q *ListQuery)
		wantErr error
	}{
		{"other status filter", func(q *ListQuery) { q.Statuses = []string{"NEW"} }, ErrBadPageToken},
		{"other tenant", func(q *ListQuery) { q.Tenant = "globex" }, ErrBadPageToken},
		{"other sort", func(q *ListQuery) { q.Sort = SortLastName }, ErrBadPageToken},
		{"other direction", func(q *ListQuery) { q.Direction = Ascending }, ErrBadPageToken},
		{"added owner", func(q *ListQuery) { q.Owners = []string{"user-01"} }, ErrBadPageToken},
		{"added score", func(q *ListQuery) { q.MinTotalScore = intp(0) }, ErrBadPageToken},
		{"garbage token", func(q *ListQuery) { q.PageToken = "not a token!" }, ErrBadPageToken},
		{"base64 garbage", func(q *ListQuery) { q.PageToken = base64.RawURLEncoding.EncodeToString([]byte("{]")) }, ErrBadPageToken},
		{"truncated token", func(q *ListQuery) { q.PageToken = token[:len(token)/2] }, ErrBadPageToken},
		{"search token", func(q *ListQuery) { q.PageToken = searchToken }, ErrBadPageToken},
		{"page size negative", func(q *ListQuery) { q.PageSize = -1 }, ErrBadPageSize},
		{"page size too big", func(q *ListQuery) { q.PageSize = 1001 }, ErrBadPageSize},
		{"unknown sort", func(q *ListQuery) { q.Sort = "email" }, ErrBadQuery},
		{"unknown direction", func(q *ListQuery) { q.Direction = 7 }, ErrBadQuery},
		{"no tenant", func(q *ListQuery) { q.Tenant = "" }, ErrBadQuery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := base
			q.PageToken = token
			tt.mutate(&q)
			_, _, err := s.List(ctx, q)
			assert.ErrorIs(t, err, tt.wantErr)
		})
	}

	t.Run("page size bounds", func(t *testing.T) {
		t.Parallel()
		rows, _, err := s.List(ctx, ListQuery{Tenant: "acme"})
		require.NoError(t, err)
		assert.Len(t, rows, 30, "default page size covers the 30 rows")
		rows, next, err := s.List(ctx, ListQuery{Tenant: "acme", PageSize: 1})
		require.NoError(t, err)
		assert.Len(t, rows, 1)
		assert.NotEmpty(t, next)
		_, _, err = s.List(ctx, ListQuery{Tenant: "acme", PageSize: MaxPageSize})
		require.NoError(t, err)
	})
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t)
	a := fullRow()
	b := fullRow()
	b.Tenant = "globex" // same id, same name, other tenant
	b.Doc = []byte("globex")
	require.NoError(t, s.Apply(ctx, testStream, 1, []LeadRow{a, b}, nil))

	for _, tenant := range []string{"acme", "globex"} {
		rows, _, err := s.List(ctx, ListQuery{Tenant: tenant})
		require.NoError(t, err)
		require.Len(t, rows, 1)
		assert.Equal(t, tenant, rows[0].Tenant)
		rows, _, err = s.List(ctx, ListQuery{Tenant: tenant, Tag: "vip"})
		require.NoError(t, err)
		require.Len(t, rows, 1)
		assert.Equal(t, tenant, rows[0].Tenant)
		rows, _, err = s.Search(ctx, SearchQuery{Tenant: tenant, Query: "lovelace"})
		require.NoError(t, err)
		require.Len(t, rows, 1)
		assert.Equal(t, tenant, rows[0].Tenant)
		got, err := s.Get(ctx, tenant, "lead-1")
		require.NoError(t, err)
		assert.Equal(t, tenant, got.Tenant)
	}
	rows, _, err := s.List(ctx, ListQuery{Tenant: "initech"})
	require.NoError(t, err)
	assert.Empty(t, rows)
	rows, _, err = s.Search(ctx, SearchQuery{Tenant: "initech", Query: "lovelace"})
	require.NoError(t, err)
	assert.Empty(t, rows)

	// Deleting in one tenant leaves the other's lead alone.
	require.NoError(t, s.Apply(ctx, testStream, 2, nil, []TenantID{{"acme", "lead-1"}}))
	got, err := s.Get(ctx, "globex", "lead-1")
	require.NoError(t, err)
	assert.Equal(t, []byte("globex"), got.Doc)
	rows, _, err = s.Search(ctx, SearchQuery{Tenant: "globex", Query: "lovelace"})
	require.NoError(t, err)
	assert.Len(t, rows, 1)
}
