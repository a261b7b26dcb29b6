package lead_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

func TestRecordOpportunityWon(t *testing.T) {
	t.Parallel()
	converted := func(t *testing.T) lead.Lead {
		l := inStatus(t, lead.StatusSQL)
		evs, err := lead.Convert(l, conversion(), lead.Settings{}, t0.Add(day))
		return apply(t, l, evs, err)
	}

	t.Run("a converted lead records the win and keeps the first", func(t *testing.T) {
		t.Parallel()
		l := converted(t)
		now := t0.Add(3 * day)
		cmd := lead.OpportunityWin{OpportunityID: "o1", WonAt: t0.Add(2 * day),
			Amount: lead.Money{Currency: "EUR", Units: 12000, Nanos: 5}, CloseDate: "2025-03-03"}
		evs, err := lead.RecordOpportunityWon(l, cmd, now)
		require.NoError(t, err)
		require.Equal(t, []lead.Event{lead.LeadOpportunityWon{OpportunityID: "o1", WonAt: t0.Add(2 * day),
			Amount: cmd.Amount, CloseDate: "2025-03-03", At: now}}, evs)
		n := lead.ApplyAll(l, evs...)
		assert.Equal(t, []string{"o1"}, n.WonOpportunityIDs)
		assert.Equal(t, t0.Add(2*day), n.WonAt)
		assert.Equal(t, lead.StatusConverted, n.Status, "the status stays")
		assert.Equal(t, l.Version+1, n.Version)
		assert.Empty(t, l.WonOpportunityIDs, "the state it was given is not modified")

		// The same opportunity won again (after a reopen): nothing; the first win counts.
		again, err := lead.RecordOpportunityWon(n, lead.OpportunityWin{OpportunityID: "o1", WonAt: t0.Add(9 * day)}, t0.Add(9*day))
		require.NoError(t, err)
		assert.Empty(t, again)

		// Another opportunity of the lead, won earlier in business time (processed late).
		evs, err = lead.RecordOpportunityWon(n, lead.OpportunityWin{OpportunityID: "o2", WonAt: t0.Add(day)}, t0.Add(10*day))
		n = apply(t, n, evs, err)
		assert.Equal(t, []string{"o1", "o2"}, n.WonOpportunityIDs)
		assert.Equal(t, t0.Add(day), n.WonAt, "won_at is the earliest win")
		assert.Equal(t, t0.Add(10*day), n.UpdatedAt)
	})

	t.Run("merged and never converted leads record it too", func(t *testing.T) {
		t.Parallel()
		merged := lead.Apply(create(t, details()), lead.LeadMergedInto{SurvivorLeadID: "l2", At: t0})
		for name, l := range map[string]lead.Lead{"merged": merged, "open": create(t, details())} {
			evs, err := lead.RecordOpportunityWon(l, lead.OpportunityWin{OpportunityID: "o1", WonAt: t0}, t0.Add(day))
			require.NoError(t, err, name)
			assert.Equal(t, []string{"LeadOpportunityWon"}, types(evs), name)
		}
	})

	t.Run("a backfilled win does not move updated_at back", func(t *testing.T) {
		t.Parallel()
		l := converted(t)
		evs, err := lead.RecordOpportunityWon(l, lead.OpportunityWin{OpportunityID: "o1", WonAt: t0}, t0)
		n := apply(t, l, evs, err)
		assert.Equal(t, t0.Add(day), n.UpdatedAt, "the conversion's time stays")
		assert.Equal(t, t0, n.WonAt)
	})

	t.Run("a missing lead is not found", func(t *testing.T) {
		t.Parallel()
		_, err := lead.RecordOpportunityWon(lead.Lead{}, lead.OpportunityWin{OpportunityID: "o1", WonAt: t0}, t0)
		assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
	})

	t.Run("invalid", func(t *testing.T) {
		t.Parallel()
		l := create(t, details())
		_, err := lead.RecordOpportunityWon(l, lead.OpportunityWin{OpportunityID: "o 1",
			Amount: lead.Money{Currency: "eur", Units: 1}, CloseDate: "03/01/2025"}, t0)
		assert.Equal(t, []string{"opportunity_id", "won_at", "amount", "close_date"}, violations(t, err))
	})
}
