package lead_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

func TestSetBant(t *testing.T) {
	t.Parallel()
	l := create(t, details())
	berlin := time.FixedZone("CET", 3600)
	b := fullBant()
	b.Timeline = time.Date(2025, 6, 1, 1, 0, 0, 0, berlin)
	b.Budget.Currency = "eur"
	evs, err := lead.SetBant(l, b, t0)
	n := apply(t, l, evs, err)
	assert.Equal(t, "EUR", n.Bant.Budget.Currency)
	assert.Equal(t, time.UTC, n.Bant.Timeline.Location())

	evs, err = lead.SetBant(n, b, t0)
	require.NoError(t, err)
	assert.Empty(t, evs, "same record: no event")

	_, err = lead.SetBant(l, lead.Bant{BudgetConfirmed: true, AuthorityConfirmed: true, NeedConfirmed: true, TimelineConfirmed: true}, t0)
	assert.Equal(t, []string{"bant.budget", "bant.authority", "bant.need", "bant.timeline"}, violations(t, err))
	_, err = lead.SetBant(l, lead.Bant{Budget: lead.Money{Currency: "EUR", Units: -1}}, t0)
	assert.Equal(t, []string{"bant.budget"}, violations(t, err))
}

func TestAssign(t *testing.T) {
	t.Parallel()
	l := create(t, details())
	evs, err := lead.Assign(l, lead.Assignment{OwnerID: "max", Note: "knows them"}, t0)
	require.NoError(t, err)
	assert.Equal(t, []lead.Event{lead.LeadAssigned{OwnerID: "max", Reason: lead.AssignManual, Note: "knows them", At: t0}}, evs)
	l = lead.ApplyAll(l, evs...)

	evs, err = lead.Assign(l, lead.Assignment{OwnerID: "max"}, t0)
	require.NoError(t, err)
	assert.Empty(t, evs)

	evs, err = lead.Assign(l, lead.Assignment{}, t0)
	require.NoError(t, err)
	assert.Equal(t, lead.LeadAssigned{PreviousOwnerID: "max", Reason: lead.AssignUnassigned, At: t0}, evs[0])

	_, err = lead.Assign(l, lead.Assignment{OwnerID: "has space"}, t0)
	assert.Equal(t, []string{"owner_id"}, violations(t, err))
}

func TestTags(t *testing.T) {
	t.Parallel()
	l := create(t, details())
	evs, err := lead.AddTags(l, []string{"VIP", "  trade show ", "vip"}, t0)
	require.NoError(t, err)
	assert.Equal(t, []lead.Event{lead.LeadTagsAdded{Tags: []string{"trade show", "vip"}, At: t0}}, evs)
	n := lead.ApplyAll(l, evs...)
	assert.Empty(t, l.Tags, "input state untouched")

	evs, err = lead.AddTags(n, []string{"vip", "emea"}, t0)
	require.NoError(t, err)
	assert.Equal(t, []string{"emea"}, evs[0].(lead.LeadTagsAdded).Tags)
	n = lead.ApplyAll(n, evs...)
	assert.Equal(t, []string{"emea", "trade show", "vip"}, n.Tags)

	evs, err = lead.RemoveTags(n, []string{"VIP", "unknown"}, t0)
	require.NoError(t, err)
	assert.Equal(t, []lead.Event{lead.LeadTagsRemoved{Tags: []string{"vip"}, At: t0}}, evs)
	assert.Equal(t, []string{"emea", "trade show"}, lead.ApplyAll(n, evs...).Tags)

	evs, err = lead.RemoveTags(n, []string{"nothing"}, t0)
	require.NoError(t, err)
	assert.Empty(t, evs)

	_, err = lead.AddTags(n, nil, t0)
	assert.Equal(t, []string{"tags"}, violations(t, err))
	var many []string
	for i := range lead.MaxTags {
		many = append(many, fmt.Sprintf("t%d", i))
	}
	_, err = lead.AddTags(n, many, t0)
	assert.Equal(t, []string{"tags"}, violations(t, err))
}
