package readmodel

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sqlInjectionPayloads are values a hostile client may put into a filter or the search text; the
// last ones are FTS5 query syntax, which must be searched for as words, never obeyed.
var sqlInjectionPayloads = []string{
	"' OR 1=1 --",
	"x'); DROP TABLE leads; --",
	`" OR "1"="1`,
	`\' OR 1=1 --`,
	`\`,
	"a\x00' OR 1=1 --",
	"\x00",
	"Ünïcødé ‮ 🙂",
	"\xff\xfe",
	strings.Repeat("x'", 5000),
	"* OR *",
	`"smi"*`,
	"last_name:smith",
	"NEAR(a b)",
	"a AND NOT b",
	"^john",
	"{first last}: j",
	"(",
	`"`,
}

// TestInjectionThroughEveryFilter: every string filter of List, the tenant, the page token and the
// search text carry each payload. Lists find nothing, without error (no stored value equals a
// payload; ErrBadQuery is only for a missing tenant or an unknown sort, which requests cannot
// reach); a forged page token is ErrBadPageToken (InvalidArgument at the API); search answers
// exactly what its contract says for those words (referenceSearch), so FTS5 syntax is never
// obeyed; afterwards every table holds what it held before.
func TestInjectionThroughEveryFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t)
	rows := seed(t, s, "acme", 300, 21)
	seed(t, s, "globex", 30, 22)
	before := sqliteSnapshot(t, s)

	filters := map[string]func(*ListQuery, string){
		"statuses":     func(q *ListQuery, p string) { q.Statuses = []string{p} },
		"owners":       func(q *ListQuery, p string) { q.Owners = []string{p} },
		"territories":  func(q *ListQuery, p string) { q.Territories = []string{p} },
		"sources":      func(q *ListQuery, p string) { q.Sources = []string{p} },
		"temperatures": func(q *ListQuery, p string) { q.Temperatures = []string{p} },
		"tag":          func(q *ListQuery, p string) { q.Tag = p },
		"campaign_id":  func(q *ListQuery, p string) { q.CampaignID = p },
		"tenant":       func(q *ListQuery, p string) { q.Tenant = p },
	}
	all, _, err := s.List(ctx, ListQuery{Tenant: "acme", PageSize: MaxPageSize})
	require.NoError(t, err)
	require.NotEmpty(t, all, "the unfiltered list finds rows, so empty answers below are the filter's")
	for i, p := range sqlInjectionPayloads {
		for name, set := range filters {
			q := ListQuery{Tenant: "acme", PageSize: MaxPageSize}
			set(&q, p)
			got, _, err := s.List(ctx, q)
			assert.NoError(t, err, "payload %d in %s", i, name)
			assert.Empty(t, got, "payload %d in %s", i, name)
		}
		_, _, err := s.List(ctx, ListQuery{Tenant: "acme", PageToken: p})
		assert.ErrorIs(t, err, ErrBadPageToken, "payload %d as list page token", i)
		_, _, err = s.Search(ctx, SearchQuery{Tenant: "acme", Query: "smith", PageToken: p})
		assert.ErrorIs(t, err, ErrBadPageToken, "payload %d as search page token", i)
		got, _, err := s.Search(ctx, SearchQuery{Tenant: p, Query: "a"})
		require.NoError(t, err, "payload %d as search tenant", i)
		assert.Empty(t, got, "payload %d as search tenant", i)
	}

	// Search: the payloads as text, and a payload next to a real word.
	pks := map[string]int64{}
	dbRows, err := s.r.QueryContext(ctx, `SELECT id, pk FROM leads WHERE tenant = 'acme'`)
	require.NoError(t, err)
	for dbRows.Next() {
		var id string
		var pk int64
		require.NoError(t, dbRows.Scan(&id, &pk))
		pks[id] = pk
	}
	require.NoError(t, dbRows.Close())
	queries := append([]string{}, sqlInjectionPayloads...)
	for _, p := range sqlInjectionPayloads[:9] {
		queries = append(queries, strings.ToLower(words(rows[0].LastName + " x")[0])+" "+p)
	}
	for i, q := range queries {
		got, _, err := s.Search(ctx, SearchQuery{Tenant: "acme", Query: q, PageSize: MaxPageSize})
		require.NoError(t, err, "search %d %q", i, q)
		assert.Equal(t, referenceSearch(rows, pks, q), nilIfEmpty(ids(got)), "search %d %q", i, q)
	}

	assert.Equal(t, before, sqliteSnapshot(t, s), "tables changed")
}

// sqliteSnapshot lists every table of the store with its row count.
func sqliteSnapshot(t *testing.T, s *Store) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	rs, err := s.r.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	require.NoError(t, err)
	var names []string
	for rs.Next() {
		var n string
		require.NoError(t, rs.Scan(&n))
		names = append(names, n)
	}
	require.NoError(t, rs.Close())
	require.Contains(t, names, "leads")
	out := map[string]int64{}
	for _, n := range names {
		var c int64
		require.NoError(t, s.r.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM "%s"`, n)).Scan(&c), n)
		out[n] = c
	}
	return out
}
