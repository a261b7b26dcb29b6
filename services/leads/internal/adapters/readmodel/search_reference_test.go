package readmodel

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Names with several words, non-Latin scripts, one-letter words, digits, and
// words around the prefix index lengths (4 and 12 bytes; a Cyrillic or Greek
// letter is 2 bytes, a CJK one 3).
var (
	refFirst = []string{"John", "Johnny", "Jo", "J", "Mary Ann", "Jean-Luc", "Anna", "Ann", "Annabelle",
		"Иван", "Ζωή", "太郎", "Øystein", "Łukasz", "Chloé", "Maximilianus", "Bartholomew", "A B", "Min-jun", "R2D2"}
	refLast = []string{"Smith", "Smithers", "Smithson-Whitfield", "de Vries", "van der Berg", "O'Brien", "Müller",
		"Mueller", "Петров", "Παπαδόπουλος", "山田", "Ng", "Li", "X", "Schwarzenegger", "Annan", "Johnson", "Jo"}
	refCompany = []string{"Acme GmbH", "Smith & Sons", "Initech", "Ann Arbor Labs", "Ювелир", "日本電気",
		"J Group", "Vries Holding BV", ""}
)

// Search against a straight reading of its contract, over leads whose names
// exercise every path of the index: the same leads, in the same order, for
// one-word and multi-word queries built from prefixes of the leads' words.
func TestSearchMatchesReference(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestStore(t)
	rng := rand.New(rand.NewPCG(11, 12))
	pick := func(vals []string) string { return vals[rng.IntN(len(vals))] }
	var rows []LeadRow
	for i := range 400 {
		r := fullRow()
		r.ID, r.Tags = fmt.Sprintf("l%03d", i), nil
		r.FirstName, r.LastName, r.Company = pick(refFirst), pick(refLast), pick(refCompany)
		r.Email = strings.ToLower(strings.Join(words(r.FirstName), ".")) + fmt.Sprint(rng.IntN(3)) + "@" +
			strings.ToLower(strings.Join(words(r.Company), "-")) + ".example"
		if rng.IntN(10) == 0 {
			r.Email = ""
		}
		rows = append(rows, r)
	}
	for start := 0; start < len(rows); start += 50 {
		require.NoError(t, s.Apply(ctx, testStream, uint64(start+50), rows[start:start+50], nil))
	}
	// Rename some: their index entries are replaced.
	var renamed []LeadRow
	for i := 0; i < len(rows); i += 7 {
		rows[i].LastName, rows[i].Sequence = pick(refLast), 1000
		renamed = append(renamed, rows[i])
	}
	require.NoError(t, s.Apply(ctx, testStream, 1000, renamed, nil))
	other := fullRow()
	other.Tenant, other.FirstName, other.LastName = "globex", "John", "Smith"
	require.NoError(t, s.Apply(ctx, testStream, 1001, []LeadRow{other}, nil))

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

	queries := []string{"j smi", "john s", "mary ann smith", "ann", "a b", "иван пет", "ζωη", "山", "太郎 山田",
		"de vr", "vries de", "maximilianus", "maximilianu", "schwarzenegge", "smithson whit", "r2d2", "r2",
		"x", "o brien", "mueller", "muller", "jo jo", "zz", "smith smith", "j j", "b a"}
	for range 300 {
		r := rows[rng.IntN(len(rows))]
		var all []string
		for _, text := range []string{r.FirstName, r.LastName, r.Email, r.Company} {
			all = append(all, words(text)...)
		}
		var q []string
		for range 1 + rng.IntN(3) {
			w := []rune(all[rng.IntN(len(all))])
			q = append(q, string(w[:1+rng.IntN(len(w))]))
		}
		queries = append(queries, strings.Join(q, " "))
	}
	for _, q := range queries {
		got, next, err := s.Search(ctx, SearchQuery{Tenant: "acme", Query: q, PageSize: MaxPageSize})
		require.NoError(t, err)
		require.Empty(t, next)
		assert.Equal(t, referenceSearch(rows, pks, q), nilIfEmpty(ids(got)), "query %q", q)
	}
}

// referenceSearch is Search's contract over rows in memory: every query word
// starts a word of the first name, last name, email or company; ranked by
// tier, then newest row first.
func referenceSearch(rows []LeadRow, pks map[string]int64, query string) []string {
	ws := words(query)
	if len(ws) > maxSearchWords {
		ws = ws[:maxSearchWords]
	}
	if len(ws) == 0 {
		return nil
	}
	type hit struct {
		tier int
		pk   int64
		id   string
	}
	var hits []hit
	for _, r := range rows {
		cols := map[byte][]string{colFirst: words(r.FirstName), colLast: words(r.LastName),
			colEmail: words(r.Email), colCompany: words(r.Company)}
		starts := func(w string, col byte) bool {
			return slices.ContainsFunc(cols[col], func(x string) bool { return strings.HasPrefix(x, w) })
		}
		anyCol := func(w string) bool {
			return starts(w, colLast) || starts(w, colFirst) || starts(w, colEmail) || starts(w, colCompany)
		}
		tier := -1
		if len(ws) == 1 {
			w := ws[0]
			switch {
			case slices.Contains(cols[colLast], w):
				tier = 0
			case starts(w, colLast):
				tier = 1
			case starts(w, colFirst):
				tier = 2
			case starts(w, colEmail):
				tier = 3
			case starts(w, colCompany):
				tier = 4
			}
		} else if !slices.ContainsFunc(ws, func(w string) bool { return !anyCol(w) }) {
			tier = 1
			if slices.ContainsFunc(ws, func(w string) bool { return starts(w, colLast) }) {
				tier = 0
			}
		}
		if tier >= 0 {
			hits = append(hits, hit{tier, pks[r.ID], r.ID})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.tier != b.tier {
			return a.tier - b.tier
		}
		return int(b.pk - a.pk)
	})
	var out []string
	for _, h := range hits {
		out = append(out, h.id)
	}
	return out
}
