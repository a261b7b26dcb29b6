package openapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/openapi"
)

type document struct {
	Swagger     string
	Info        struct{ Title string }
	Paths       map[string]map[string]struct{ Tags []string }
	Definitions map[string]any
}

func parse(t *testing.T, raw []byte) document {
	t.Helper()
	var d document
	require.NoError(t, json.Unmarshal(raw, &d))
	return d
}

func TestEveryOperationBelongsToOneService(t *testing.T) {
	t.Parallel()
	d := parse(t, openapi.Document())
	require.Equal(t, "2.0", d.Swagger)
	for path, ops := range d.Paths {
		for method, op := range ops {
			require.Len(t, op.Tags, 1, "%s %s", method, path)
			assert.True(t, strings.HasPrefix(op.Tags[0], "crm.") && strings.HasSuffix(op.Tags[0], "Service"),
				"%s %s is tagged %q: ForServices needs the full service name (include_package_in_tags)", method, path, op.Tags[0])
		}
	}
}

// The dashboard and crmctl rely on these paths (docs/api.md).
func TestAnalyticsPaths(t *testing.T) {
	t.Parallel()
	d := parse(t, must(openapi.ForServices("analytics", "crm.analytics.v1.AnalyticsService")))
	want := []string{"/v1/analytics/funnel", "/v1/analytics/stage-metrics", "/v1/analytics/sales-velocity",
		"/v1/analytics/forecast", "/v1/analytics/campaign-performance", "/v1/analytics/projection-status",
		"/v1/accounts/{accountId}/timeline", "/v1/analytics:rebuild"}
	got := make([]string, 0, len(d.Paths))
	for p, ops := range d.Paths {
		got = append(got, p)
		if p != "/v1/analytics:rebuild" {
			assert.Contains(t, ops, "get", p)
		}
	}
	assert.ElementsMatch(t, want, got)
	assert.Equal(t, "analytics", d.Info.Title)
}

func TestForServicesKeepsOnlyWhatItServes(t *testing.T) {
	t.Parallel()
	all := parse(t, openapi.Document())
	pipeline := parse(t, must(openapi.ForServices("p", "crm.pipeline.v1.PipelineService", "grpc.health.v1.Health")))
	assert.Contains(t, pipeline.Paths, "/v1/opportunities/{opportunityId}:moveStage")
	assert.NotContains(t, pipeline.Paths, "/v1/leads")
	assert.Less(t, len(pipeline.Definitions), len(all.Definitions))
	assert.Contains(t, pipeline.Definitions, "Opportunity")

	none := parse(t, must(openapi.ForServices("none")))
	assert.Empty(t, none.Paths)
	assert.Empty(t, none.Definitions)
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
