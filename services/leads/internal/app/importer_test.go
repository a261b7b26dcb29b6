package app

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

func TestImportRecordIDIsStableValidAndDistinct(t *testing.T) {
	t.Parallel()
	a := ImportRecordID("acme", "imp-1", ImportLeads, 2)
	assert.Equal(t, a, ImportRecordID("acme", "imp-1", ImportLeads, 2))
	assert.True(t, lead.ValidID(a), a)
	assert.Len(t, a, 36)
	for _, other := range []string{
		ImportRecordID("acme", "imp-1", ImportLeads, 3),
		ImportRecordID("acme", "imp-2", ImportLeads, 2),
		ImportRecordID("globex", "imp-1", ImportLeads, 2),
		ImportRecordID("acme", "imp-1", ImportContacts, 2),
	} {
		assert.NotEqual(t, a, other)
	}
}

func TestReportListsFailedRowsFirstWhenCut(t *testing.T) {
	t.Parallel()
	r := &importRun{}
	for line := 2; line < MaxReportResults+12; line++ {
		out := RowSkipped
		if line%1000 == 0 {
			out = RowFailed
		}
		r.record(RowResult{Line: line, Outcome: out})
	}
	rep := r.report(0)
	assert.True(t, rep.Truncated)
	assert.Len(t, rep.Results, MaxReportResults)
	failed := 0
	for i, res := range rep.Results {
		if i > 0 {
			assert.Less(t, rep.Results[i-1].Line, res.Line, "line order")
		}
		if res.Outcome == RowFailed {
			failed++
		}
	}
	assert.Equal(t, 10, failed, "every failed row kept")
}
