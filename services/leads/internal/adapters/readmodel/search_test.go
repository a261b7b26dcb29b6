package readmodel

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func searchFixture(t *testing.T) *Store {
	t.Helper()
	s := openTestStore(t)
	mk := func(id, first, last, email, company string) LeadRow {
		r := fullRow()
		r.ID, r.FirstName, r.LastName, r.Email, r.Company, r.Tags = id, first, last, email, company, nil
		return r
	}
	rows := []LeadRow{
		mk("l1", "John", "Smith", "john.smith@acme.example", "Acme GmbH"),
		mk("l2", "Jane", "Smithers", "jane@globex.example", "Globex Inc"),
		mk("l3", "Anna", "Meyer", "anna.meyer@smithfield.example", "Smithfield Foods"),
		mk("l4", "Jörg", "Müller", "joerg@mueller.example", "Müller AG"),
		mk("l5", "Smith", "Jones", "sj@initech.example", "Initech"),
		mk("l6", "Chloé", "Dubois", "chloe@dubois.example", "Dubois & Fils"),
		mk("l7", "Null", "Or", "and@or.example", "NEAR Corp"),
	}
	require.NoError(t, s.Apply(context.Background(), testStream, 1, rows, nil))
	return s
}

func TestSearch(t *testing.T) {
	t.Parallel()
	s := searchFixture(t)
	tests := []struct {
		name  string
		query string
		want  []string // in rank order when ordered, else as a set
		order bool
	}{
		{"whole last name", "smith", []string{"l1", "l5", "l2", "l3"}, false},
		{"prefix", "smi", []string{"l1", "l2", "l3", "l5"}, false},
		{"two words", "john smi", []string{"l1"}, true},
		{"words in any column", "anna smithfield", []string{"l3"}, true},
		{"email", "john.smith@acme.example", []string{"l1"}, true},
		{"email domain", "globex.example", []string{"l2"}, true},
		{"company", "initech", []string{"l5"}, true},
		{"case and diacritics", "MULLER", []string{"l4"}, true},
		{"accented query", "chloé", []string{"l6"}, true},
		{"no match", "zzz", nil, true},
		{"fts keywords are words", "near", []string{"l7"}, true},
		{"AND/OR as words", "and OR", []string{"l7"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rows, next, err := s.Search(context.Background(), SearchQuery{Tenant: "acme", Query: tt.query})
			require.NoError(t, err)
			assert.Empty(t, next)
			if tt.order {
				assert.Equal(t, tt.want, nilIfEmpty(ids(rows)))
			} else {
				assert.ElementsMatch(t, tt.want, ids(rows))
			}
		})
	}
}

// Names with several words, other scripts and one-letter words, and words
// longer than the prefix indexes (12 bytes) or between their lengths.
func TestSearchNames(t *testing.T) {
	t.Parallel()
	s := openTestStore(t)
	mk := func(id, first, last string) LeadRow {
		r := fullRow()
		r.ID, r.FirstName, r.LastName, r.Email, r.Company, r.Tags = id, first, last, "", "", nil
		return r
	}
	rows := []LeadRow{
		mk("n1", "Mary Ann", "de Vries"),
		mk("n2", "Ann", "Vries-Smith"),
		mk("n3", "J", "Smith"),
		mk("n4", "John", "Smithson-Whitfield"),
		mk("n5", "Иван", "Петров"),
		mk("n6", "太郎", "山田"),
		mk("n7", "Maximilianus", "Schwarzenegger"),
		mk("n8", "Ζωή", "Παπαδοπούλου"),
	}
	require.NoError(t, s.Apply(context.Background(), testStream, 1, rows, nil))
	tests := []struct {
		query string
		want  []string // rank order: a last-name match first, then newest first
	}{
		{"mary ann de vries", []string{"n1"}},
		{"ann vri", []string{"n2", "n1"}},
		{"vries mary", []string{"n1"}},
		{"de", []string{"n1"}},
		{"j smith", []string{"n4", "n3"}},
		{"j s", []string{"n4", "n3"}},
		{"john smithson whit", []string{"n4"}},
		{"smithson", []string{"n4"}},
		{"иван пет", []string{"n5"}},
		{"ИВАН", []string{"n5"}},
		{"петро", []string{"n5"}},
		{"山", []string{"n6"}},
		{"太郎 山田", []string{"n6"}},
		{"maximilian schwarz", []string{"n7"}},
		{"maximilianus", []string{"n7"}},
		{"schwarzenegge", []string{"n7"}}, // 13 bytes: beyond the prefix indexes
		{"ζωή παπαδ", []string{"n8"}},
		{"ΠΑΠΑΔΟΠΟΎΛΟΥ", []string{"n8"}}, // 24 bytes; only Latin diacritics are folded
		{"m a d v", []string{"n1"}},
		{"ann smith vries x", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			got, _, err := s.Search(context.Background(), SearchQuery{Tenant: "acme", Query: tt.query})
			require.NoError(t, err)
			assert.Equal(t, tt.want, nilIfEmpty(ids(got)))
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// A last-name hit outranks a first-name hit, which outranks email and
// company hits.
func TestSearchRanking(t *testing.T) {
	t.Parallel()
	s := searchFixture(t)
	rows, _, err := s.Search(context.Background(), SearchQuery{Tenant: "acme", Query: "smith"})
	require.NoError(t, err)
	got := ids(rows)
	require.Len(t, got, 4)
	assert.Equal(t, "l1", got[0], "exact last name (plus email) first")
	assert.Less(t, indexOf(got, "l5"), indexOf(got, "l3"), "first name Smith before company Smithfield")
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// FTS5 syntax in user input never errors and never acts as syntax.
func TestSearchEscaping(t *testing.T) {
	t.Parallel()
	s := searchFixture(t)
	inputs := []string{
		`"`, `""`, `"smith`, `smith"`, `*`, `smi*`, `^smith`, `last_name:smith`, `tenant_token:x`,
		`(smith`, `smith)`, `()`, `{last_name}: smith`, `smith OR jones`, `NOT smith`, `smith AND`,
		`NEAR(smith jones)`, `-smith`, `+smith`, `smith -jones`, `'; DROP TABLE leads; --`, `\`, `%`, `_`,
		"smith\x00", "\xff\xfe", strings.Repeat("a", 10_000), strings.Repeat("smith ", 100), `"*^:(){}[]`,
	}
	for i, in := range inputs {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			rows, _, err := s.Search(context.Background(), SearchQuery{Tenant: "acme", Query: in})
			require.NoError(t, err, "input %q", in)
			for _, r := range rows {
				assert.Equal(t, "acme", r.Tenant)
			}
		})
	}
	// Syntax characters are separators: these find what the bare words find.
	for _, in := range []string{`"smith"`, `smith*`, `^smith`, `(smith)`, `last_name:smith`} {
		rows, _, err := s.Search(context.Background(), SearchQuery{Tenant: "acme", Query: in})
		require.NoError(t, err)
		if in == `last_name:smith` {
			// "last", "name" and "smith" are three words; nobody matches all.
			assert.Empty(t, rows)
			continue
		}
		assert.Len(t, rows, 4, "input %q", in)
	}
	// Only punctuation: nothing to search for.
	rows, next, err := s.Search(context.Background(), SearchQuery{Tenant: "acme", Query: `"*^:()`})
	require.NoError(t, err)
	assert.Empty(t, rows)
	assert.Empty(t, next)
}

func TestSearchPaging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t)
	seed(t, s, "acme", 200, 8)
	seed(t, s, "globex", 100, 8) // same names in another tenant

	for _, text := range []string{"s", "e a"} { // one word: five tiers; several: two
		all, next, err := s.Search(ctx, SearchQuery{Tenant: "acme", Query: text, PageSize: 1000})
		require.NoError(t, err)
		require.Empty(t, next)
		require.Greater(t, len(all), 20)
		seen := map[string]bool{}
		for _, r := range all {
			assert.Equal(t, "acme", r.Tenant)
			assert.False(t, seen[r.ID], "no lead twice across tiers")
			seen[r.ID] = true
		}
		for _, size := range []int{3, 7, 20} {
			var paged []LeadRow
			q := SearchQuery{Tenant: "acme", Query: text, PageSize: size}
			for {
				page, next, err := s.Search(ctx, q)
				require.NoError(t, err)
				paged = append(paged, page...)
				if next == "" {
					break
				}
				require.Len(t, page, size)
				q.PageToken = next
			}
			assert.Equal(t, ids(all), ids(paged), "%q page size %d", text, size)
		}
	}
	_, tok, err := s.Search(ctx, SearchQuery{Tenant: "acme", Query: "s", PageSize: 1})
	require.NoError(t, err)
	for _, q := range []SearchQuery{
		{Tenant: "acme", Query: "sm", PageToken: tok},
		{Tenant: "globex", Query: "s", PageToken: tok},
		{Tenant: "acme", Query: "s", PageToken: tok + "x"},
	} {
		_, _, err := s.Search(ctx, q)
		assert.ErrorIs(t, err, ErrBadPageToken, "%+v", q)
	}
	_, _, err = s.Search(ctx, SearchQuery{Tenant: "acme", Query: "s", PageSize: 5000})
	assert.ErrorIs(t, err, ErrBadPageSize)
	_, _, err = s.Search(ctx, SearchQuery{Query: "s"})
	assert.ErrorIs(t, err, ErrBadQuery)
}
