package activitymodel_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/sqlitemodel"

	"github.com/evcrm/evcrm/services/leads/internal/adapters/activitymodel"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
	"github.com/evcrm/evcrm/services/leads/internal/domain/task"
)

// BenchmarkScopedLists: the first page (50) of ListActivities and ListTasks for a rep who owns
// 1 lead in 100 of a tenant with 20,000 leads, each with one activity and one task, and for an
// unrestricted caller. The rep's page walks about 5,000 index entries to fill 50 rows.
//
//	go test -run '^$' -bench BenchmarkScopedLists -benchtime 20x ./internal/adapters/activitymodel/
func BenchmarkScopedLists(b *testing.B) {
	ctx := context.Background()
	s, err := activitymodel.Open(ctx, "", sqlitemodel.Options{})
	require.NoError(b, err)
	b.Cleanup(func() { _ = s.Close() })
	const n = 20_000
	var batch activitymodel.Batch
	for i := range n {
		owner := fmt.Sprintf("rep-%d", i%100)
		r := activity.RecordRef{Type: activity.RecordLead, ID: fmt.Sprintf("l%d", i)}
		at := t0.Add(time.Duration(i) * time.Second)
		batch.Scopes = append(batch.Scopes, activitymodel.RecordScope{Tenant: "t", Record: r, Seq: uint64(i + 1), SetOwner: true, Owner: owner, SetTerritory: true})
		batch.Activities = append(batch.Activities, activitymodel.ActivityRow{Tenant: "t", Seq: uint64(i + 1), Activity: activity.Activity{
			ID: fmt.Sprintf("a%d", i), Version: 1, Kind: activity.KindCall, Records: []activity.RecordRef{r}, Subject: "s", OccurredAt: at, LoggedBy: "admin", CreatedAt: at}})
		batch.Tasks = append(batch.Tasks, activitymodel.TaskRow{Tenant: "t", Seq: uint64(i + 1), Task: task.Task{ID: fmt.Sprintf("t%d", i), Version: 1,
			Subject: "s", AssigneeID: "admin", CreatedBy: "admin", Status: task.StatusOpen, Record: r, DueAt: at, CreatedAt: at}})
	}
	require.NoError(b, s.Apply(ctx, "CRM_LEADS", n, batch))
	for _, c := range []struct {
		name  string
		scope *activitymodel.Scope
	}{{"rep", &activitymodel.Scope{Owners: []string{"rep-7"}}}, {"all", nil}} {
		b.Run("activities/"+c.name, func(b *testing.B) {
			for b.Loop() {
				page, _, err := s.ListActivities(ctx, activitymodel.ActivityQuery{Tenant: "t", Scope: c.scope})
				require.NoError(b, err)
				require.Len(b, page, 50)
			}
		})
		b.Run("tasks/"+c.name, func(b *testing.B) {
			for b.Loop() {
				page, _, err := s.ListTasks(ctx, activitymodel.TaskQuery{Tenant: "t", Scope: c.scope})
				require.NoError(b, err)
				require.Len(b, page, 50)
			}
		})
	}
}
