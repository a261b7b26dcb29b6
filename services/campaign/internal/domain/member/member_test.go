package member_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/member"
)

var now = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func testCampaign() campaign.Campaign {
	return campaign.Campaign{ID: "c1", Version: 2, Status: campaign.StatusActive,
		Details: campaign.Details{Name: "x", Channel: campaign.ChannelEmail, MemberStatuses: campaign.DefaultStatuses()}}
}

func fold(m member.Member, evs []member.Event) member.Member {
	for _, e := range evs {
		m = member.Apply(m, e)
	}
	return m
}

func added(t *testing.T) member.Member {
	t.Helper()
	evs, err := member.Add(member.Member{}, testCampaign(), member.TypeLead, "lead-1", "manual", now)
	require.NoError(t, err)
	return fold(member.Member{}, evs)
}

func TestID(t *testing.T) {
	t.Parallel()
	a := member.ID("c1", member.TypeLead, "p1")
	assert.Equal(t, a, member.ID("c1", member.TypeLead, "p1"), "deterministic")
	assert.NotEqual(t, a, member.ID("c1", member.TypeContact, "p1"))
	assert.NotEqual(t, a, member.ID("c2", member.TypeLead, "p1"))
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, a)
}

func TestAdd(t *testing.T) {
	t.Parallel()
	m := added(t)
	assert.Equal(t, member.ID("c1", member.TypeLead, "lead-1"), m.ID)
	assert.Equal(t, uint64(1), m.Version)
	assert.Equal(t, campaign.ChannelEmail, m.Channel)

	evs, err := member.Add(m, testCampaign(), member.TypeLead, "lead-1", "manual", now)
	require.NoError(t, err)
	assert.Empty(t, evs, "adding twice changes nothing")

	for _, st := range []campaign.Status{campaign.StatusCompleted, campaign.StatusAborted} {
		c := testCampaign()
		c.Status = st
		_, err := member.Add(member.Member{}, c, member.TypeLead, "lead-2", "manual", now)
		assert.Equal(t, apperr.FailedPrecondition, apperr.KindOf(err), st.String())
	}
}

func TestRespond(t *testing.T) {
	t.Parallel()
	c := testCampaign()
	m := added(t)
	step := func(status string, at time.Time, key string) ([]member.Event, error) {
		return member.Respond(m, c, member.Response{Status: status, OccurredAt: at, Key: key}, now)
	}

	evs, err := step("sent", now.Add(-time.Hour), "b:0")
	require.NoError(t, err)
	r := evs[0].(member.Responded)
	assert.Equal(t, campaign.KindSent, r.Kind)
	assert.False(t, r.Responded)
	m = fold(m, evs)
	assert.Equal(t, "sent", m.Status)

	_, err = step("sent", time.Time{}, "b:0")
	assert.ErrorIs(t, err, member.ErrDuplicate, "same key")

	evs, err = step("clicked", time.Time{}, "b:1")
	require.NoError(t, err)
	r = evs[0].(member.Responded)
	assert.True(t, r.Responded)
	assert.True(t, r.FirstResponse)
	m = fold(m, evs)
	assert.True(t, m.Responded)
	assert.Equal(t, now, m.FirstRespondedAt)

	evs, err = step("converted", time.Time{}, "")
	require.NoError(t, err)
	assert.False(t, evs[0].(member.Responded).FirstResponse)

	evs, err = step("opened", now.Add(-30*time.Minute), "")
	require.NoError(t, err)
	late := fold(m, evs)
	assert.Equal(t, "clicked", late.Status, "a late report of an older response keeps the latest status")

	evs, err = step("unsubscribed", time.Time{}, "")
	require.NoError(t, err)
	m = fold(m, evs)
	assert.True(t, m.Unsubscribed)
	_, err = step("sent", time.Time{}, "")
	assert.Equal(t, apperr.FailedPrecondition, apperr.KindOf(err))
	assert.Contains(t, err.Error(), "member unsubscribed")
	_, err = step("opened", time.Time{}, "")
	assert.NoError(t, err, "only sends are refused after unsubscribing")
}

func TestRespondInvalid(t *testing.T) {
	t.Parallel()
	c := testCampaign()
	big := map[string]string{}
	for i := range 21 {
		big[string(rune('a'+i))] = "v"
	}
	tests := []struct {
		name string
		m    member.Member
		r    member.Response
		want []string
	}{
		{"non-member", member.Member{}, member.Response{Status: "sent"}, []string{"response.person_id"}},
		{"unknown status", added(t), member.Response{Status: "attended"}, []string{"response.status"}},
		{"future", added(t), member.Response{Status: "sent", OccurredAt: now.Add(48 * time.Hour)}, []string{"response.occurred_at"}},
		{"metadata", added(t), member.Response{Status: "sent", Metadata: big}, []string{"response.metadata"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evs, err := member.Respond(tc.m, c, tc.r, now)
			assert.Empty(t, evs)
			e, ok := apperr.As(err)
			require.True(t, ok)
			require.Equal(t, apperr.Invalid, e.Kind)
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
