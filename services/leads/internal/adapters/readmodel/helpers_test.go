package readmodel

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const testStream = "CRM_LEADS"

var testBase = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func openTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), "", Options{ReadConns: 2, CacheKiB: 4096})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// seed generates n leads for tenant with a coarse creation step (many
// ties) and applies them in batches.
func seed(t *testing.T, s *Store, tenant string, n int, seedNo uint64) []LeadRow {
	t.Helper()
	g := newLeadGen(seedNo, tenant, testBase, 0)
	rows := make([]LeadRow, n)
	for i := range rows {
		rows[i] = g.lead()
		// Ties on every sort key: 4 creation instants, and updated/score
		// collapsed onto few values.
		rows[i].CreatedAt = testBase.Add(time.Duration(i%4) * time.Hour)
		rows[i].UpdatedAt = testBase.Add(time.Duration(i%3) * time.Minute)
		rows[i].TotalScore = rows[i].TotalScore % 10
	}
	ck, err := s.Checkpoint(context.Background())
	require.NoError(t, err)
	seq := ck[testStream]
	for start := 0; start < n; start += 97 {
		end := min(start+97, n)
		seq += uint64(end - start)
		require.NoError(t, s.Apply(context.Background(), testStream, seq, rows[start:end], nil))
	}
	return rows
}

func ids(rows []LeadRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

// listAll pages through q and returns every row in order.
func listAll(t *testing.T, s *Store, q ListQuery) []LeadRow {
	t.Helper()
	var all []LeadRow
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10_000, "paging does not end")
		rows, next, err := s.List(context.Background(), q)
		require.NoError(t, err)
		require.LessOrEqual(t, len(rows), max(q.PageSize, 1)*1000)
		if q.PageSize > 0 && next != "" {
			require.Len(t, rows, q.PageSize, "a page before the last is full")
		}
		all = append(all, rows...)
		if next == "" {
			return all
		}
		q.PageToken = next
	}
}

// expectList is the reference implementation of List over rows in memory.
func expectList(rows []LeadRow, q ListQuery) []string {
	in := func(vals []string, v string) bool { return len(vals) == 0 || slices.Contains(vals, v) }
	var out []LeadRow
	for _, r := range rows {
		if r.Tenant != q.Tenant || !in(q.Statuses, r.Status) || !in(q.Owners, r.Owner) ||
			!in(q.Territories, r.Territory) || !in(q.Sources, r.Source) || !in(q.Temperatures, r.Temperature) ||
			(q.Tag != "" && !slices.Contains(r.Tags, q.Tag)) ||
			(q.CampaignID != "" && r.CampaignID != q.CampaignID) ||
			(q.MinTotalScore != nil && r.TotalScore < *q.MinTotalScore) ||
			(q.MaxTotalScore != nil && r.TotalScore > *q.MaxTotalScore) ||
			(!q.CreatedFrom.IsZero() && r.CreatedAt.Before(q.CreatedFrom)) ||
			(!q.CreatedTo.IsZero() && !r.CreatedAt.Before(q.CreatedTo)) ||
			(!q.UpdatedFrom.IsZero() && r.UpdatedAt.Before(q.UpdatedFrom)) ||
			(!q.UpdatedTo.IsZero() && !r.UpdatedAt.Before(q.UpdatedTo)) {
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b LeadRow) int {
		var c int
		switch q.Sort {
		case SortCreatedAt, "":
			c = a.CreatedAt.Compare(b.CreatedAt)
		case SortUpdatedAt:
			c = a.UpdatedAt.Compare(b.UpdatedAt)
		case SortTotalScore:
			c = cmp.Compare(a.TotalScore, b.TotalScore)
		case SortLastName:
			c = strings.Compare(strings.ToLower(a.LastName), strings.ToLower(b.LastName))
		}
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if q.Direction == Descending {
			c = -c
		}
		return c
	})
	return ids(out)
}

func intp(v int) *int { return &v }
