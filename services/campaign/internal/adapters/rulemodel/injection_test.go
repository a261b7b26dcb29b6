package rulemodel_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/rulemodel"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
)

// injectionPayloads are values a hostile client may put into an id, a filter or a page token.
var injectionPayloads = []string{
	"' OR 1=1 --",
	"' OR '1'='1",
	"x'); DROP TABLE rules; --",
	`"; DROP TABLE rule_runs; --`,
	"%' UNION SELECT seq, body FROM rule_runs --",
	"') UNION SELECT body FROM rules --",
	`" OR "1"="1`,
	`\' OR 1=1 --`,
	`\`,
	"%",
	"a\x00' OR 1=1 --",
	"\x00",
	"Ünïcødé ‮ 🙂",
	"\xff\xfe",
	"1; ATTACH DATABASE '/tmp/x.db' AS x; --",
	strings.Repeat("x'", 5000),
}

// TestInjectionThroughEveryFilter sends each payload through every string ListRules,
// ListRuleRuns, GetRule and the engine's TriggeredBy hand to SQL: the rule id filter, the
// event type, the tenant and the page tokens. A payload matches nothing, without error; as a
// page token it is InvalidArgument on page_token; as an id NotFound; no other tenant's row is
// returned. Afterwards the unfiltered reads answer what they answered before.
func TestInjectionThroughEveryFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := rulemodel.Open(ctx, "", sqlitemodel.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	var b rulemodel.Batch
	for _, tenant := range []string{"acme", "globex"} {
		for i := range 10 {
			b.Rules = append(b.Rules, rule.Rule{ID: fmt.Sprintf("%s-r%d", tenant, i), Version: 1, Name: "n", Enabled: i%2 == 0,
				EventType: []string{"LeadCreated", "LeadQualified"}[i%2]})
			b.Tenants = append(b.Tenants, tenant)
			for j := range 5 {
				o := rule.OutcomeFired
				if j%2 == 1 {
					o = rule.OutcomeSkipped
				}
				b.Runs = append(b.Runs, rulemodel.RunRow{Tenant: tenant, RunID: fmt.Sprintf("%s-run-%d-%d", tenant, i, j),
					Seq: uint64(len(b.Runs) + 1), Run: rule.Run{RuleID: fmt.Sprintf("%s-r%d", tenant, i), EventID: fmt.Sprint("e", j), Outcome: o}})
			}
		}
	}
	require.NoError(t, s.Apply(ctx, "CRM_CAMPAIGN", 1, b))

	rules := func(tenant string, enabledOnly bool) []string {
		t.Helper()
		rs, _, err := s.ListRules(ctx, tenant, enabledOnly, rulemodel.MaxPageSize, "")
		require.NoError(t, err)
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	runs := func(tenant string, f rulemodel.RunFilter) []string {
		t.Helper()
		f.PageSize = rulemodel.MaxPageSize
		rs, _, err := s.ListRuns(ctx, tenant, f)
		require.NoError(t, err)
		var out []string
		for _, r := range rs {
			require.True(t, strings.HasPrefix(r.RuleID, tenant+"-"), "a run of another tenant: %s", r.RuleID)
			out = append(out, r.RuleID+"/"+r.EventID)
		}
		return out
	}
	allRules, enabledRules := rules("acme", false), rules("acme", true)
	require.Len(t, allRules, 10)
	require.Len(t, enabledRules, 5)
	allRuns := runs("acme", rulemodel.RunFilter{})
	require.Len(t, allRuns, 50)
	triggered, err := s.TriggeredBy(ctx, "acme", "LeadCreated")
	require.NoError(t, err)
	require.Len(t, triggered, 5)

	for i, p := range injectionPayloads {
		assert.Empty(t, runs("acme", rulemodel.RunFilter{RuleID: p}), "payload %d as rule_id", i)
		assert.Empty(t, runs("acme", rulemodel.RunFilter{RuleID: p, Outcomes: []rule.Outcome{rule.OutcomeFired}}), "payload %d as rule_id", i)
		assert.Empty(t, runs(p, rulemodel.RunFilter{}), "payload %d as tenant", i)
		assert.Empty(t, rules(p, false), "payload %d as tenant", i)
		on, err := s.TriggeredBy(ctx, "acme", p)
		require.NoError(t, err, "payload %d as event type", i)
		assert.Empty(t, on, "payload %d as event type", i)
		on, err = s.TriggeredBy(ctx, p, "LeadCreated")
		require.NoError(t, err, "payload %d as tenant", i)
		assert.Empty(t, on, "payload %d as tenant", i)

		for _, enabledOnly := range []bool{false, true} {
			_, _, err = s.ListRules(ctx, "acme", enabledOnly, 0, p)
			requireInvalidPageToken(t, err, i)
		}
		_, _, err = s.ListRuns(ctx, "acme", rulemodel.RunFilter{PageToken: p})
		requireInvalidPageToken(t, err, i)
		_, _, err = s.ListRuns(ctx, "acme", rulemodel.RunFilter{RuleID: p, PageToken: p})
		requireInvalidPageToken(t, err, i)

		for _, tenant := range []string{"acme", p} {
			_, err = s.GetRule(ctx, tenant, p)
			assert.Equal(t, apperr.NotFound, apperr.KindOf(err), "payload %d as rule id: %v", i, err)
		}
		_, err = s.GetRule(ctx, p, "acme-r0")
		assert.Equal(t, apperr.NotFound, apperr.KindOf(err), "payload %d as tenant: %v", i, err)
	}

	assert.Equal(t, allRules, rules("acme", false), "rules after the payloads")
	assert.Equal(t, enabledRules, rules("acme", true), "enabled rules after the payloads")
	assert.Equal(t, allRuns, runs("acme", rulemodel.RunFilter{}), "runs after the payloads")
	assert.Len(t, rules("globex", false), 10, "the other tenant's rules after the payloads")
	assert.Len(t, runs("globex", rulemodel.RunFilter{}), 50, "the other tenant's runs after the payloads")
}

func requireInvalidPageToken(t *testing.T, err error, i int) {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "payload %d as page token: want an apperr.Error, got %v", i, err)
	assert.Equal(t, apperr.Invalid, e.Kind, "payload %d as page token", i)
	require.NotEmpty(t, e.Fields)
	assert.Equal(t, "page_token", e.Fields[0].Field)
}
