package lead_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

func fullBant() lead.Bant {
	return lead.Bant{Budget: lead.Money{Currency: "EUR", Units: 50000}, BudgetConfirmed: true,
		Authority: "CFO signs", AuthorityConfirmed: true, Need: "replace spreadsheets", NeedConfirmed: true,
		Timeline: t0.Add(90 * day), TimelineConfirmed: true}
}

func TestChangeStatusTransitions(t *testing.T) {
	t.Parallel()
	const (
		ok       = ""
		illegal  = lead.ReasonIllegalTransition
		notStall = lead.ReasonNotStalled
	)
	all := []lead.Status{lead.StatusNew, lead.StatusMQL, lead.StatusSAL, lead.StatusSQL,
		lead.StatusDisqualified, lead.StatusRecycled}
	// want[from][to] is "" for a legal transition, else the precondition reason.
	want := map[lead.Status]map[lead.Status]string{
		lead.StatusNew:          {lead.StatusNew: illegal, lead.StatusMQL: ok, lead.StatusSAL: illegal, lead.StatusSQL: illegal, lead.StatusDisqualified: ok, lead.StatusRecycled: notStall},
		lead.StatusMQL:          {lead.StatusNew: illegal, lead.StatusMQL: illegal, lead.StatusSAL: ok, lead.StatusSQL: illegal, lead.StatusDisqualified: ok, lead.StatusRecycled: notStall},
		lead.StatusSAL:          {lead.StatusNew: illegal, lead.StatusMQL: illegal, lead.StatusSAL: illegal, lead.StatusSQL: ok, lead.StatusDisqualified: ok, lead.StatusRecycled: notStall},
		lead.StatusSQL:          {lead.StatusNew: illegal, lead.StatusMQL: illegal, lead.StatusSAL: illegal, lead.StatusSQL: illegal, lead.StatusDisqualified: ok, lead.StatusRecycled: notStall},
		lead.StatusConverted:    {lead.StatusNew: illegal, lead.StatusMQL: illegal, lead.StatusSAL: illegal, lead.StatusSQL: illegal, lead.StatusDisqualified: illegal, lead.StatusRecycled: illegal},
		lead.StatusDisqualified: {lead.StatusNew: illegal, lead.StatusMQL: illegal, lead.StatusSAL: illegal, lead.StatusSQL: illegal, lead.StatusDisqualified: illegal, lead.StatusRecycled: ok},
		lead.StatusRecycled:     {lead.StatusNew: illegal, lead.StatusMQL: ok, lead.StatusSAL: illegal, lead.StatusSQL: illegal, lead.StatusDisqualified: ok, lead.StatusRecycled: illegal},
	}
	for from, row := range want {
		for _, to := range all {
			wantReason := row[to]
			t.Run(fmt.Sprintf("%s→%s", from, to), func(t *testing.T) {
				t.Parallel()
				l := inStatus(t, from)
				l = lead.Apply(l, lead.BantUpdated{Bant: fullBant(), At: t0})
				now := t0.Add(2 * day)
				cmd := lead.StatusChange{To: to, Reason: "because", DisqualifyReason: lead.DisqualifyNotAFit}
				evs, err := lead.ChangeStatus(l, cmd, policy(), now)
				if wantReason != ok {
					reason, msg := precondition(t, err)
					assert.Equal(t, wantReason, reason)
					assert.Contains(t, msg, "lead is "+from.String())
					assert.Nil(t, evs)
					return
				}
				require.NoError(t, err)
				require.Len(t, evs, 1)
				e := evs[0].(lead.LeadStatusChanged)
				assert.Equal(t, from, e.From)
				assert.Equal(t, to, e.To)
				assert.Equal(t, 2*day, e.TimeInPrevious)
				assert.Equal(t, "because", e.Reason)
				assert.False(t, e.Automatic)
				n := lead.ApplyAll(l, evs...)
				assert.Equal(t, to, n.Status)
				assert.Equal(t, now, n.StatusChangedAt)
				if to == lead.StatusMQL {
					assert.Equal(t, lead.PathManual, n.QualificationPath)
				}
				if to == lead.StatusDisqualified {
					assert.Equal(t, lead.DisqualifyNotAFit, n.DisqualifyReason)
				}
			})
		}
	}
}

func TestChangeStatusValidation(t *testing.T) {
	t.Parallel()
	l := inStatus(t, lead.StatusNew)
	for _, tc := range []struct {
		name   string
		cmd    lead.StatusChange
		fields []string
	}{
		{"no target", lead.StatusChange{}, []string{"to"}},
		{"unknown target", lead.StatusChange{To: 99}, []string{"to"}},
		{"conversion has its own decision", lead.StatusChange{To: lead.StatusConverted}, []string{"to"}},
		{"score path is automatic only", lead.StatusChange{To: lead.StatusMQL, Path: lead.PathScore}, []string{"qualification_path"}},
		{"disqualify needs a reason", lead.StatusChange{To: lead.StatusDisqualified}, []string{"disqualify_reason"}},
		{"unknown disqualify reason", lead.StatusChange{To: lead.StatusDisqualified, DisqualifyReason: 17}, []string{"disqualify_reason"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := lead.ChangeStatus(l, tc.cmd, policy(), t0)
			assert.Equal(t, tc.fields, violations(t, err))
		})
	}
}

func TestQualifyAsPQL(t *testing.T) {
	t.Parallel()
	l := inStatus(t, lead.StatusNew)
	evs, err := lead.ChangeStatus(l, lead.StatusChange{To: lead.StatusMQL, Path: lead.PathProduct}, policy(), t0)
	n := apply(t, l, evs, err)
	assert.Equal(t, lead.PathProduct, n.QualificationPath)
	assert.Equal(t, lead.StatusMQL, n.Status)
}

func TestSQLRequiresBant(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		settings lead.Settings
		bant     lead.Bant
		missing  string // "" means the move is allowed
	}{
		{"all required, nothing captured", policy().Settings, lead.Bant{}, "budget, authority, need, timeline"},
		{"noted but not confirmed does not count", policy().Settings,
			lead.Bant{Need: "x", Authority: "y", Budget: lead.Money{Currency: "USD", Units: 1}, Timeline: t0}, "budget, authority, need, timeline"},
		{"all confirmed", policy().Settings, fullBant(), ""},
		{"need and authority required", lead.Settings{RequireNeed: true, RequireAuthority: true},
			lead.Bant{Need: "x", NeedConfirmed: true}, "authority"},
		{"nothing required", lead.Settings{}, lead.Bant{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := lead.Apply(inStatus(t, lead.StatusSAL), lead.BantUpdated{Bant: tc.bant, At: t0})
			p := policy()
			p.Settings = tc.settings
			evs, err := lead.ChangeStatus(l, lead.StatusChange{To: lead.StatusSQL}, p, t0)
			if tc.missing == "" {
				require.NoError(t, err)
				assert.Len(t, evs, 1)
				return
			}
			reason, msg := precondition(t, err)
			assert.Equal(t, lead.ReasonBantIncomplete, reason)
			assert.Equal(t, "lead is SALES_ACCEPTED: becoming SALES_QUALIFIED needs a confirmed "+tc.missing, msg)
		})
	}
}

func TestRecycle(t *testing.T) {
	t.Parallel()
	t.Run("stalled after StallDays without a status change", func(t *testing.T) {
		t.Parallel()
		l := inStatus(t, lead.StatusSAL)
		_, err := lead.Recycle(l, "", true, policy(), t0.Add(30*day-time.Second))
		reason, msg := precondition(t, err)
		assert.Equal(t, lead.ReasonNotStalled, reason)
		assert.Equal(t, "lead is SALES_ACCEPTED since 29 days: only disqualified leads or leads without a status change for 30 days can be recycled", msg)

		evs, err := lead.Recycle(l, "", true, policy(), t0.Add(45*day))
		require.NoError(t, err)
		e := evs[0].(lead.LeadStatusChanged)
		assert.True(t, e.Automatic)
		assert.Equal(t, "stalled: no status change for 45 days (stall threshold 30 days)", e.Reason)
		assert.Equal(t, 45*day, e.TimeInPrevious)
		assert.Equal(t, lead.StatusRecycled, lead.ApplyAll(l, evs...).Status)
	})
	t.Run("StallDays 0 means never stalled", func(t *testing.T) {
		t.Parallel()
		p := policy()
		p.Settings.StallDays = 0
		_, err := lead.Recycle(inStatus(t, lead.StatusNew), "", true, p, t0.Add(3650*day))
		reason, _ := precondition(t, err)
		assert.Equal(t, lead.ReasonNotStalled, reason)
	})
	t.Run("disqualified any time, and the remarket flag resets", func(t *testing.T) {
		t.Parallel()
		l := inStatus(t, lead.StatusNew)
		l.Remarket = true
		evs, err := lead.Disqualify(l, lead.DisqualifyNoResponse, "ghosted", policy(), t0)
		l = apply(t, l, evs, err)
		assert.True(t, l.Remarket, "disqualifying keeps the flag of the run")
		evs, err = lead.Recycle(l, "new budget year", false, policy(), t0.Add(time.Hour))
		l = apply(t, l, evs, err)
		assert.Equal(t, lead.StatusRecycled, l.Status)
		assert.False(t, l.Remarket)
		assert.Equal(t, lead.DisqualifyUnspecified, l.DisqualifyReason)
		assert.Equal(t, "new budget year", evs[0].(lead.LeadStatusChanged).Reason)
	})
}
