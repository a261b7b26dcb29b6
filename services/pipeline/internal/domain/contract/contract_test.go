package contract_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
)

var t0 = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)

func date(y int, m time.Month, d int) civil.Date { return civil.New(y, m, d) }

func newContract() contract.NewContract {
	return contract.NewContract{ID: "k1", OpportunityID: "o1", AccountID: "acc1", Details: contract.Details{
		OwnerID: "olga", StartDate: date(2025, 4, 1), EndDate: date(2026, 3, 31), Value: money.MustParse("EUR", "120000"),
		Terms: "Net 30"}}
}

func create(t *testing.T, cmd contract.NewContract) contract.Contract {
	t.Helper()
	evs, err := contract.Create(contract.Contract{}, cmd, opportunity.StatusWon, t0)
	require.NoError(t, err)
	return contract.ApplyAll(contract.Contract{}, evs...)
}

func active(t *testing.T, cmd contract.NewContract) contract.Contract {
	t.Helper()
	c := create(t, cmd)
	evs, err := contract.Activate(c, t0)
	require.NoError(t, err)
	return contract.ApplyAll(c, evs...)
}

func violations(t *testing.T, err error) []string {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "want an apperr.Error, got %v", err)
	require.Equal(t, apperr.Invalid, e.Kind, "%v", err)
	var fields []string
	for _, f := range e.Fields {
		fields = append(fields, f.Field)
	}
	return fields
}

func reason(t *testing.T, err error) string {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "want an apperr.Error, got %v", err)
	require.Equal(t, apperr.FailedPrecondition, e.Kind, "%v", err)
	return e.Reason
}

func types(evs []contract.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.EventType())
	}
	return out
}

func TestCreate(t *testing.T) {
	t.Parallel()
	t.Run("a draft with the default renewal date", func(t *testing.T) {
		t.Parallel()
		cmd := newContract()
		cmd.Details.Value.Currency = "eur"
		evs, err := contract.Create(contract.Contract{}, cmd, opportunity.StatusWon, t0)
		require.NoError(t, err)
		require.Equal(t, []string{"ContractCreated"}, types(evs))
		c := contract.ApplyAll(contract.Contract{}, evs...)
		assert.EqualValues(t, 1, c.Version)
		assert.Equal(t, contract.StatusDraft, c.Status)
		assert.Equal(t, date(2026, 3, 1), c.RenewalDate, "30 days before the end")
		assert.Equal(t, date(2025, 4, 1), c.TermStart)
		assert.Equal(t, "EUR", c.Value.Currency)
	})
	t.Run("short contract: renewal date not before the start", func(t *testing.T) {
		t.Parallel()
		cmd := newContract()
		cmd.Details.EndDate = date(2025, 4, 15)
		assert.Equal(t, date(2025, 4, 1), create(t, cmd).RenewalDate)
	})
	t.Run("only for won opportunities", func(t *testing.T) {
		t.Parallel()
		for _, s := range []opportunity.Status{opportunity.StatusOpen, opportunity.StatusLost} {
			_, err := contract.Create(contract.Contract{}, newContract(), s, t0)
			assert.Equal(t, contract.ReasonOpportunityNotWon, reason(t, err), s.String())
		}
	})
	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name   string
			edit   func(*contract.NewContract)
			fields []string
		}{
			{"ids", func(c *contract.NewContract) { c.ID, c.OpportunityID, c.AccountID = "", "o 1", "a/1" },
				[]string{"id", "opportunity_id", "account_id"}},
			{"owner", func(c *contract.NewContract) { c.Details.OwnerID = "" }, []string{"owner_id"}},
			{"end before start", func(c *contract.NewContract) { c.Details.EndDate = date(2025, 3, 31) }, []string{"end_date"}},
			{"no dates", func(c *contract.NewContract) { c.Details.StartDate, c.Details.EndDate = civil.Date{}, civil.Date{} },
				[]string{"start_date", "end_date"}},
			{"renewal outside the term", func(c *contract.NewContract) { c.Details.RenewalDate = date(2026, 4, 1) }, []string{"renewal_date"}},
			{"negative value", func(c *contract.NewContract) { c.Details.Value = money.MustParse("EUR", "-1") }, []string{"value"}},
			{"value without currency", func(c *contract.NewContract) { c.Details.Value = money.Money{} }, []string{"value"}},
			{"value below the minor unit", func(c *contract.NewContract) { c.Details.Value = money.MustParse("EUR", "0.001") }, []string{"value"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				cmd := newContract()
				tc.edit(&cmd)
				evs, err := contract.Create(contract.Contract{}, cmd, opportunity.StatusWon, t0)
				assert.Nil(t, evs)
				assert.Equal(t, tc.fields, violations(t, err))
			})
		}
	})
	t.Run("exists", func(t *testing.T) {
		t.Parallel()
		_, err := contract.Create(create(t, newContract()), newContract(), opportunity.StatusWon, t0)
		assert.Equal(t, apperr.AlreadyExists, apperr.KindOf(err))
	})
}

func TestActivate(t *testing.T) {
	t.Parallel()
	c := active(t, newContract())
	assert.Equal(t, contract.StatusActive, c.Status)
	evs, err := contract.Activate(c, t0)
	require.NoError(t, err)
	assert.Empty(t, evs, "already active")

	_, err = contract.Activate(create(t, newContract()), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
	assert.Equal(t, contract.ReasonIllegalStatus, reason(t, err), "a draft whose end passed")
	evs, err = contract.Terminate(c, contract.Termination{Reason: "breach"}, t0)
	terminated := contract.ApplyAll(c, evs...)
	require.NoError(t, err)
	_, err = contract.Activate(terminated, t0)
	assert.Equal(t, contract.ReasonIllegalStatus, reason(t, err))
	_, err = contract.Activate(contract.Contract{}, t0)
	assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	t.Run("changed fields; the default renewal date follows the end date", func(t *testing.T) {
		t.Parallel()
		c := active(t, newContract())
		evs, err := contract.UpdateDetails(c, contract.Update{Paths: []string{"end_date", "value", "auto_renew", "terms"},
			Details: contract.Details{EndDate: date(2026, 6, 30), Value: money.MustParse("", "150000"), AutoRenew: true, Terms: " Net 30 "}}, t0)
		require.NoError(t, err)
		require.Equal(t, []string{"ContractUpdated"}, types(evs))
		u := evs[0].(contract.ContractUpdated)
		assert.Equal(t, []string{"end_date", "value", "renewal_date", "auto_renew"}, u.Changed, "terms unchanged")
		assert.Equal(t, date(2026, 3, 31), u.Before.EndDate)
		assert.Equal(t, date(2026, 5, 31), u.After.RenewalDate)
		n := contract.ApplyAll(c, evs...)
		assert.Equal(t, "EUR 150000.00", n.Value.String(), "an empty currency keeps the contract's")
		assert.True(t, n.AutoRenew)
		assert.Equal(t, date(2026, 6, 30), n.EndDate)
	})
	t.Run("a chosen renewal date stays", func(t *testing.T) {
		t.Parallel()
		cmd := newContract()
		cmd.Details.RenewalDate = date(2025, 12, 1)
		c := create(t, cmd)
		evs, err := contract.UpdateDetails(c, contract.Update{Paths: []string{"end_date"}, Details: contract.Details{EndDate: date(2026, 6, 30)}}, t0)
		require.NoError(t, err)
		assert.Equal(t, []string{"end_date"}, evs[0].(contract.ContractUpdated).Changed)
	})
	t.Run("start date moves the first term", func(t *testing.T) {
		t.Parallel()
		c := create(t, newContract())
		evs, err := contract.UpdateDetails(c, contract.Update{Paths: []string{"start_date"}, Details: contract.Details{StartDate: date(2025, 5, 1)}}, t0)
		require.NoError(t, err)
		assert.Equal(t, date(2025, 5, 1), contract.ApplyAll(c, evs...).TermStart)
	})
	t.Run("no change, bad values, wrong status", func(t *testing.T) {
		t.Parallel()
		c := active(t, newContract())
		evs, err := contract.UpdateDetails(c, contract.Update{Paths: []string{"owner_id"}, Details: contract.Details{OwnerID: "olga"}}, t0)
		require.NoError(t, err)
		assert.Empty(t, evs)
		_, err = contract.UpdateDetails(c, contract.Update{Paths: []string{"status", "end_date"}, Details: contract.Details{EndDate: date(2025, 1, 1)}}, t0)
		assert.Equal(t, []string{"update_mask.paths[0]", "end_date"}, violations(t, err))
		_, err = contract.UpdateDetails(c, contract.Update{}, t0)
		assert.Equal(t, []string{"update_mask.paths"}, violations(t, err))
		evs, _ = contract.Expire(c, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
		_, err = contract.UpdateDetails(contract.ApplyAll(c, evs...), contract.Update{Paths: []string{"terms"}}, t0)
		assert.Equal(t, contract.ReasonIllegalStatus, reason(t, err))
	})
}

func TestTerminate(t *testing.T) {
	t.Parallel()
	c := active(t, newContract())
	evs, err := contract.Terminate(c, contract.Termination{Reason: " customer insolvent "}, t0.AddDate(0, 2, 0))
	require.NoError(t, err)
	assert.Equal(t, []contract.Event{contract.ContractTerminated{Reason: "customer insolvent", EffectiveDate: date(2025, 5, 3),
		At: t0.AddDate(0, 2, 0)}}, evs)
	n := contract.ApplyAll(c, evs...)
	assert.Equal(t, contract.StatusTerminated, n.Status)
	assert.Equal(t, date(2025, 5, 3), n.TerminatedOn)

	_, err = contract.Terminate(n, contract.Termination{Reason: "again"}, t0)
	assert.Equal(t, contract.ReasonIllegalStatus, reason(t, err))
	_, err = contract.Terminate(c, contract.Termination{EffectiveDate: date(2026, 4, 1)}, t0)
	assert.Equal(t, []string{"reason", "effective_date"}, violations(t, err))
}

func TestExpire(t *testing.T) {
	t.Parallel()
	afterEnd := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	t.Run("expires after the end date", func(t *testing.T) {
		t.Parallel()
		c := active(t, newContract())
		evs, err := contract.Expire(c, time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		assert.Empty(t, evs, "the last day is still in force")
		evs, err = contract.Expire(c, afterEnd)
		require.NoError(t, err)
		assert.Equal(t, []string{"ContractExpired"}, types(evs))
		assert.Equal(t, contract.StatusExpired, contract.ApplyAll(c, evs...).Status)
	})
	t.Run("drafts and closed contracts are left alone", func(t *testing.T) {
		t.Parallel()
		evs, err := contract.Expire(create(t, newContract()), afterEnd)
		require.NoError(t, err)
		assert.Empty(t, evs)
	})
	t.Run("auto-renewal repeats the term", func(t *testing.T) {
		t.Parallel()
		cmd := newContract()
		cmd.Details.AutoRenew = true
		c := active(t, cmd)
		evs, err := contract.Expire(c, afterEnd)
		require.NoError(t, err)
		assert.Equal(t, []contract.Event{contract.ContractRenewed{NewEndDate: date(2027, 3, 31), NewRenewalDate: date(2027, 3, 1),
			NewValue: c.Value, Automatic: true, At: afterEnd}}, evs)
		n := contract.ApplyAll(c, evs...)
		assert.Equal(t, date(2026, 4, 1), n.TermStart)
		assert.Equal(t, contract.StatusActive, n.Status)

		// A sweep that ran late renews as many terms as needed.
		late := time.Date(2028, 5, 1, 0, 0, 0, 0, time.UTC)
		evs, err = contract.Expire(c, late)
		require.NoError(t, err)
		r := evs[0].(contract.ContractRenewed)
		assert.Equal(t, date(2029, 3, 31), r.NewEndDate)
	})
	t.Run("auto-renewal of a term in days", func(t *testing.T) {
		t.Parallel()
		cmd := newContract()
		cmd.Details.AutoRenew = true
		cmd.Details.StartDate, cmd.Details.EndDate = date(2025, 4, 10), date(2025, 5, 9) // 30 days
		c := active(t, cmd)
		evs, err := contract.Expire(c, time.Date(2025, 5, 10, 0, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		assert.Equal(t, date(2025, 6, 9), evs[0].(contract.ContractRenewed).NewEndDate, "month-day aligned: one month")
		cmd.Details.StartDate, cmd.Details.EndDate = date(2025, 4, 10), date(2025, 4, 19) // 10 days
		c = active(t, cmd)
		evs, err = contract.Expire(c, time.Date(2025, 4, 20, 0, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		assert.Equal(t, date(2025, 4, 29), evs[0].(contract.ContractRenewed).NewEndDate, "10 more days")
	})
}

func TestRenew(t *testing.T) {
	t.Parallel()
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		c := active(t, newContract())
		evs, err := contract.Renew(c, contract.Renewal{NewEndDate: date(2027, 3, 31)}, t0)
		require.NoError(t, err)
		assert.Equal(t, []contract.Event{contract.ContractRenewed{NewEndDate: date(2027, 3, 31), NewRenewalDate: date(2027, 3, 1),
			NewValue: c.Value, At: t0}}, evs)
	})
	t.Run("late renewal of an expired contract with a new value", func(t *testing.T) {
		t.Parallel()
		c := active(t, newContract())
		evs, err := contract.Expire(c, time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		c = contract.ApplyAll(c, evs...)
		v := money.MustParse("", "130000")
		evs, err = contract.Renew(c, contract.Renewal{NewEndDate: date(2027, 3, 31), NewRenewalDate: date(2026, 12, 31), NewValue: &v}, t0)
		require.NoError(t, err)
		n := contract.ApplyAll(c, evs...)
		assert.Equal(t, contract.StatusActive, n.Status)
		assert.Equal(t, "EUR 130000.00", n.Value.String())
		assert.Equal(t, date(2026, 12, 31), n.RenewalDate)
		assert.Equal(t, date(2026, 4, 1), n.TermStart)
		assert.True(t, n.DueForRenewal(date(2027, 1, 15)))
		assert.False(t, n.DueForRenewal(date(2026, 12, 30)))
		assert.False(t, n.DueForRenewal(date(2027, 4, 1)))
	})
	t.Run("bad input and wrong status", func(t *testing.T) {
		t.Parallel()
		c := active(t, newContract())
		usd := money.MustParse("USD", "1")
		_, err := contract.Renew(c, contract.Renewal{NewEndDate: date(2026, 3, 31), NewRenewalDate: date(2020, 1, 1), NewValue: &usd}, t0)
		assert.Equal(t, []string{"new_end_date", "new_renewal_date", "new_value"}, violations(t, err))
		_, err = contract.Renew(create(t, newContract()), contract.Renewal{NewEndDate: date(2027, 3, 31)}, t0)
		assert.Equal(t, contract.ReasonIllegalStatus, reason(t, err), "drafts are not renewed")
	})
}

func TestLifecycleFold(t *testing.T) {
	t.Parallel()
	var log []contract.Event
	var c contract.Contract
	step := func(evs []contract.Event, err error) {
		t.Helper()
		require.NoError(t, err)
		log = append(log, evs...)
		c = contract.ApplyAll(c, evs...)
	}
	step(contract.Create(c, newContract(), opportunity.StatusWon, t0))
	step(contract.Activate(c, t0.Add(time.Hour)))
	step(contract.UpdateDetails(c, contract.Update{Paths: []string{"auto_renew"}, Details: contract.Details{AutoRenew: true}}, t0.Add(2*time.Hour)))
	step(contract.Expire(c, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)))
	step(contract.Terminate(c, contract.Termination{Reason: "merged"}, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)))
	assert.Equal(t, []string{"ContractCreated", "ContractActivated", "ContractUpdated", "ContractRenewed", "ContractTerminated"}, types(log))
	assert.Equal(t, c, contract.ApplyAll(contract.Contract{}, log...))
	assert.EqualValues(t, 5, c.Version)
}
