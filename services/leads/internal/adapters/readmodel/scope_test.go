package readmodel

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inScope is the reference of Scope: what authz.Scope.Allows decides for a row.
func inScope(s *Scope, r LeadRow) bool {
	return s == nil || (r.Owner != "" && slices.Contains(s.Owners, r.Owner)) ||
		(r.Territory != "" && slices.Contains(s.Territories, r.Territory))
}

var testScopes = []struct {
	name  string
	scope *Scope
}{
	{"all", nil},
	{"nothing", &Scope{}},
	{"owner", &Scope{Owners: []string{"user-03"}}},
	{"owners", &Scope{Owners: []string{"user-02", "user-07", "user-11"}}},
	{"territory", &Scope{Territories: []string{"dach"}}},
	{"owner or territories", &Scope{Owners: []string{"user-05"}, Territories: []string{"uk-ie", "na-west"}}},
	{"blank ids match nothing", &Scope{Owners: []string{""}, Territories: []string{""}}},
}

// TestListScope pages through every sort with each scope: the pages hold exactly the rows in
// scope, in order, every page but the last full.
func TestListScope(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	rows := seed(t, s, "acme", 600, 7)
	// An unowned lead is in scope through its territory only.
	rows[0].Owner = ""
	require.NoError(t, s.Apply(context.Background(), testStream, 1_000, rows[:1], nil))
	seed(t, s, "globex", 50, 8) // same owners and territories, other tenant
	for _, sc := range testScopes {
		for _, sort := range []SortField{SortCreatedAt, SortTotalScore, SortLastName} {
			t.Run(fmt.Sprintf("%s/%s", sc.name, sort), func(t *testing.T) {
				t.Parallel()
				q := ListQuery{Tenant: "acme", Sort: sort, Direction: Ascending, PageSize: 17, Scope: sc.scope}
				var want []LeadRow
				for _, r := range rows {
					if inScope(sc.scope, r) {
						want = append(want, r)
					}
				}
				if sc.scope != nil && len(sc.scope.Owners)+len(sc.scope.Territories) > 0 && !strings.Contains(sc.name, "blank") {
					require.NotEmpty(t, want, "the fixture must have rows in scope")
					require.Less(t, len(want), len(rows), "the fixture must have rows out of scope")
				}
				assert.Equal(t, nilIfEmpty(expectList(want, q)), nilIfEmpty(ids(listAll(t, s, q))))

				// Other filters are ANDed with the scope.
				q.Territories, q.PageToken = []string{"dach", "uk-ie"}, ""
				assert.Equal(t, nilIfEmpty(expectList(want, q)), nilIfEmpty(ids(listAll(t, s, q))))
			})
		}
	}
}

// TestSearchScope: a scoped search returns, page by page, the unscoped ranking with the rows
// out of scope left out, and full pages.
func TestSearchScope(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	rows := seed(t, s, "acme", 600, 11)
	byID := map[string]LeadRow{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	// A prefix of a common last name's first letters matches many rows across tiers.
	query := strings.ToLower(rows[0].LastName[:1])
	var ranked []string
	searchAll := func(q SearchQuery) []string {
		var out []string
		for pages := 0; ; pages++ {
			require.Less(t, pages, 1000)
			got, next, err := s.Search(context.Background(), q)
			require.NoError(t, err)
			if next != "" {
				require.Len(t, got, q.PageSize, "a page before the last is full")
			}
			out = append(out, ids(got)...)
			if next == "" {
				return out
			}
			q.PageToken = next
		}
	}
	ranked = searchAll(SearchQuery{Tenant: "acme", Query: query, PageSize: 1000})
	require.Greater(t, len(ranked), 40)
	for _, sc := range testScopes {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			var want []string
			for _, id := range ranked {
				if inScope(sc.scope, byID[id]) {
					want = append(want, id)
				}
			}
			got := searchAll(SearchQuery{Tenant: "acme", Query: query, PageSize: 7, Scope: sc.scope})
			assert.Equal(t, nilIfEmpty(want), nilIfEmpty(got))
		})
	}
}

// TestSearchScopePlan: the scoped tier query reads the FTS index in rowid order and looks each
// hit's row up by its key, never walking the tenant's rows.
func TestSearchScopePlan(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	seed(t, s, "acme", 50, 3)
	query, args := tierQuery(`"x"`, "acme", &Scope{Owners: []string{"a", "b"}, Territories: []string{"c"}}, 42, 10)
	rows, err := s.r.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	require.NoError(t, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &notused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	text := strings.Join(plan, "\n")
	t.Log(text)
	assert.Contains(t, text, "SCAN leads_fts VIRTUAL TABLE")
	assert.Contains(t, text, "SEARCH l USING INTEGER PRIMARY KEY")
	assert.NotContains(t, text, "TEMP B-TREE", "the FTS index gives the order")
}
