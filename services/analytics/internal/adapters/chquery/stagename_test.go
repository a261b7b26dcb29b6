package chquery_test

import (
	"fmt"
	"testing"

	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chquery"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/metrichistory"
)

// A stage renamed between two transitions in the same second: GetStageMetrics names the stage
// as the later transition (by stream sequence) did, whatever order the rows reached ClickHouse
// in. Ordering by time alone leaves the tie to the order the parts are read in.
func TestStageNameOfTheLatestTransition(t *testing.T) {
	t.Parallel()
	rows := map[uint64][]any{
		1: {tenant, "OX", uint64(1), day(1, 10), "P9", "S9", "Old name", "created"},
		2: {tenant, "OY", uint64(2), day(1, 10), "P9", "S9", "New name", "created"},
	}
	for _, order := range [][]uint64{{1, 2}, {2, 1}} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			t.Parallel()
			conn := load(t, 0)
			for _, seq := range order {
				metrichistory.Insert(t.Context(), t, conn, metrichistory.Table{Name: "stage_transitions",
					Cols: "tenant, opportunity_id, seq, at, pipeline_id, to_stage_id, to_stage_name, outcome", Rows: [][]any{rows[seq]}})
			}
			got, err := chquery.StageMetrics(t.Context(), conn, q1("", ""))
			check(t, "stages", got, err, []chquery.StageRow{{PipelineID: "P9", StageID: "S9", StageName: "New name", Entered: 2}})
		})
	}
}
