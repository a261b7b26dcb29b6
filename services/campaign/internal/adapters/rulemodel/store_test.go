package rulemodel_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/rulemodel"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
)

func TestStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := rulemodel.Open(ctx, "", sqlitemodel.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	r := rule.Rule{ID: "r1", Version: 2, Name: "v2", Enabled: true, EventType: "LeadCreated"}
	old := r
	old.Version, old.Name = 1, "v1"
	require.NoError(t, s.Apply(ctx, "CRM_CAMPAIGN", 5, rulemodel.Batch{Rules: []rule.Rule{r}, Tenants: []string{"t"}}))
	// A redelivered older state does not overwrite the newer one.
	require.NoError(t, s.Apply(ctx, "CRM_CAMPAIGN", 6, rulemodel.Batch{Rules: []rule.Rule{old}, Tenants: []string{"t"}}))
	got, err := s.GetRule(ctx, "t", "r1")
	require.NoError(t, err)
	assert.Equal(t, "v2", got.Name)
	_, err = s.GetRule(ctx, "other", "r1")
	assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
	on, err := s.TriggeredBy(ctx, "t", "LeadCreated")
	require.NoError(t, err)
	assert.Len(t, on, 1)

	var runs []rulemodel.RunRow
	for i := range 5 {
		o := rule.OutcomeFired
		if i%2 == 1 {
			o = rule.OutcomeSkipped
		}
		runs = append(runs, rulemodel.RunRow{Tenant: "t", RunID: fmt.Sprint("run", i), Seq: uint64(10 + i),
			Run: rule.Run{RuleID: "r1", EventID: fmt.Sprint("e", i), Outcome: o}})
	}
	require.NoError(t, s.Apply(ctx, "CRM_CAMPAIGN", 20, rulemodel.Batch{Runs: runs}))
	require.NoError(t, s.Apply(ctx, "CRM_CAMPAIGN", 21, rulemodel.Batch{Runs: runs[:1]}), "a run stored twice is kept once")

	page, next, err := s.ListRuns(ctx, "t", rulemodel.RunFilter{RuleID: "r1", PageSize: 2})
	require.NoError(t, err)
	require.Len(t, page, 2)
	assert.Equal(t, "e4", page[0].EventID, "newest first")
	page2, next2, err := s.ListRuns(ctx, "t", rulemodel.RunFilter{RuleID: "r1", PageSize: 2, PageToken: next})
	require.NoError(t, err)
	assert.Equal(t, []string{"e2", "e1"}, []string{page2[0].EventID, page2[1].EventID})
	page3, next3, err := s.ListRuns(ctx, "t", rulemodel.RunFilter{RuleID: "r1", PageSize: 2, PageToken: next2})
	require.NoError(t, err)
	assert.Len(t, page3, 1)
	assert.Empty(t, next3)

	fired, _, err := s.ListRuns(ctx, "t", rulemodel.RunFilter{Outcomes: []rule.Outcome{rule.OutcomeFired}})
	require.NoError(t, err)
	assert.Len(t, fired, 3)
	_, _, err = s.ListRuns(ctx, "t", rulemodel.RunFilter{RuleID: "r2", PageToken: next})
	assert.Equal(t, apperr.Invalid, apperr.KindOf(err), "a token of another query")
}
