package readmodel

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/sqlitemodel"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/forecast"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
)

const testStream = "CRM_PIPELINE"

func openStore(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, sqlitemodel.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// appliedBatch is a batch as the projector applied it, kept to replay it.
type appliedBatch struct {
	lastSeq uint64
	batch   Batch
}

// project plays the projector: it cuts the log into batches of 1…maxBatch events, folds each
// opportunity's events and applies, per opportunity, the state after the batch with every
// intermediate state. It returns the batches and the final states by tenant and id.
func project(t testing.TB, s *Store, log []recorded, rng *rand.Rand, maxBatch int) ([]appliedBatch, map[[2]string]opportunity.Opportunity) {
	t.Helper()
	ctx := context.Background()
	states := map[[2]string]opportunity.Opportunity{}
	var out []appliedBatch
	seq := uint64(0)
	for i := 0; i < len(log); {
		n := 1 + rng.IntN(maxBatch)
		chunk := log[i:min(i+n, len(log))]
		i += len(chunk)
		byOpp := map[[2]string]int{}
		var b Batch
		for _, r := range chunk {
			seq++
			k := [2]string{r.tenant, r.OpportunityID}
			st := opportunity.Apply(states[k], r.Event)
			states[k] = st
			j, ok := byOpp[k]
			if !ok {
				j = len(b.Opportunities)
				byOpp[k] = j
				b.Opportunities = append(b.Opportunities, OpportunityChange{Tenant: r.tenant})
			}
			c := &b.Opportunities[j]
			if c.State.Exists() {
				c.History = append(c.History, HistoryPoint{State: c.State, RecordedAt: c.RecordedAt})
			}
			c.State, c.RecordedAt, c.Seq = st, r.RecordedAt, seq
		}
		// Some projectors end History with the final state itself; both are accepted.
		for j := range b.Opportunities {
			if c := &b.Opportunities[j]; rng.IntN(2) == 0 {
				c.History = append(c.History, HistoryPoint{State: c.State, RecordedAt: c.RecordedAt})
			}
		}
		require.NoError(t, s.Apply(ctx, testStream, seq, b))
		out = append(out, appliedBatch{lastSeq: seq, batch: b})
	}
	return out, states
}

// normForecast makes forecasts comparable: amounts by value (decimal exponents may differ).
type normRow struct {
	Period, Currency, Owner string
	Category                int
	Count                   int
	Amount, Weighted        string
}

type normTotals struct {
	Currency                                        string
	Pipeline, BestCase, Commit, ClosedWon, Weighted string
}

type normForecast struct {
	Rows   []normRow
	Totals []normTotals
}

func norm(f forecast.Forecast) normForecast {
	var n normForecast
	for _, r := range f.Rows {
		n.Rows = append(n.Rows, normRow{Period: r.PeriodStart.String(), Currency: r.Currency, Owner: r.OwnerID,
			Category: int(r.Category), Count: r.Count, Amount: r.Amount.Currency + " " + r.Amount.Amount.String(),
			Weighted: r.Weighted.Currency + " " + r.Weighted.Amount.String()})
	}
	for _, t := range f.Totals {
		n.Totals = append(n.Totals, normTotals{Currency: t.Currency, Pipeline: t.Pipeline.Amount.String(),
			BestCase: t.BestCase.Amount.String(), Commit: t.Commit.Amount.String(),
			ClosedWon: t.ClosedWon.Amount.String(), Weighted: t.Weighted.Amount.String()})
	}
	return n
}

func requireKind(t testing.TB, err error, kind apperr.Kind, field string) {
	t.Helper()
	require.Error(t, err)
	e, ok := apperr.As(err)
	require.True(t, ok, "want an apperr.Error, got %v", err)
	require.Equal(t, kind, e.Kind, "%v", err)
	if field != "" {
		require.NotEmpty(t, e.Fields, "%v", err)
		require.Equal(t, field, e.Fields[0].Field, "%v", err)
	}
}
