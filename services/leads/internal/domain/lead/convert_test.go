package lead_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

func conversion() lead.Conversion {
	return lead.Conversion{AccountID: "a1", ContactID: "c1", OpportunityID: "o1", AccountCreated: true,
		ContactCreated: false, ConvertedBy: "rep-1"}
}

func TestConvertRecordsStatusChangeAndLeadConverted(t *testing.T) {
	t.Parallel()
	l := inStatus(t, lead.StatusSQL)
	l.CampaignID, l.OwnerID = "camp-1", "owner-1"
	now := t0.Add(day)
	evs, err := lead.Convert(l, conversion(), lead.Settings{}, now)
	require.NoError(t, err)
	require.Equal(t, []string{"LeadStatusChanged", "LeadConverted"}, types(evs))

	sc := evs[0].(lead.LeadStatusChanged)
	assert.Equal(t, lead.StatusSQL, sc.From)
	assert.Equal(t, lead.StatusConverted, sc.To)
	assert.Equal(t, day, sc.TimeInPrevious)
	want := lead.ConvertedRecords{AccountID: "a1", ContactID: "c1", OpportunityID: "o1", ConvertedAt: now}
	assert.Equal(t, want, sc.Converted)
	assert.Equal(t, lead.LeadConverted{Conversion: conversion(), Source: lead.SourceWebForm, CampaignID: "camp-1",
		OwnerID: "owner-1", At: now}, evs[1])

	n := lead.ApplyAll(l, evs...)
	assert.Equal(t, lead.StatusConverted, n.Status)
	assert.Equal(t, want, n.Converted)
	assert.Equal(t, conversion(), n.Conversion)
	assert.Equal(t, l.Version+2, n.Version)

	t.Run("the same conversion again is a no-op", func(t *testing.T) {
		again, err := lead.Convert(n, conversion(), lead.Settings{}, now.Add(day))
		require.NoError(t, err)
		assert.Empty(t, again)
	})
	t.Run("another conversion names the records", func(t *testing.T) {
		other := conversion()
		other.OpportunityID = ""
		_, err := lead.Convert(n, other, lead.Settings{}, now)
		reason, msg := precondition(t, err)
		assert.Equal(t, lead.ReasonConverted, reason)
		assert.Equal(t, "lead was already converted into account a1, contact c1, opportunity o1", msg)
		assert.Equal(t, err, lead.CanConvert(n, lead.Settings{}))
	})
	t.Run("a converted lead can no longer change", func(t *testing.T) {
		_, err := lead.AddTags(n, []string{"x"}, now)
		reason, _ := precondition(t, err)
		assert.Equal(t, lead.ReasonConverted, reason)
	})
}

func TestConvertStatusGate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status     lead.Status
		salAllowed bool
		wantMsg    string // "" converts
	}{
		{lead.StatusSQL, false, ""},
		{lead.StatusSQL, true, ""},
		{lead.StatusSAL, true, ""},
		{lead.StatusSAL, false, "lead is SALES_ACCEPTED: only SALES_QUALIFIED leads can be converted"},
		{lead.StatusMQL, true, "lead is MARKETING_QUALIFIED: only SALES_ACCEPTED and SALES_QUALIFIED leads can be converted"},
		{lead.StatusNew, false, "lead is NEW: only SALES_QUALIFIED leads can be converted"},
		{lead.StatusDisqualified, false, "lead is DISQUALIFIED: only SALES_QUALIFIED leads can be converted"},
		{lead.StatusRecycled, true, "lead is RECYCLED: only SALES_ACCEPTED and SALES_QUALIFIED leads can be converted"},
	} {
		t.Run(tc.status.String(), func(t *testing.T) {
			t.Parallel()
			s := lead.Settings{ConvertSalesAccepted: tc.salAllowed}
			l := inStatus(t, tc.status)
			evs, err := lead.Convert(l, conversion(), s, t0)
			checkErr := lead.CanConvert(l, s)
			if tc.wantMsg == "" {
				require.NoError(t, err)
				require.NoError(t, checkErr)
				assert.Len(t, evs, 2)
				return
			}
			reason, msg := precondition(t, err)
			assert.Equal(t, lead.ReasonNotConvertible, reason)
			assert.Equal(t, tc.wantMsg, msg)
			assert.Equal(t, err, checkErr)
			assert.Empty(t, evs)
		})
	}
}

func TestConvertRejects(t *testing.T) {
	t.Parallel()
	sql := inStatus(t, lead.StatusSQL)
	_, err := lead.Convert(sql, lead.Conversion{AccountID: "bad id", OpportunityID: "x/y"}, lead.Settings{}, t0)
	assert.Equal(t, []string{"account_id", "contact_id", "opportunity_id"}, violations(t, err))

	_, err = lead.Convert(lead.Lead{}, conversion(), lead.Settings{}, t0)
	assert.Equal(t, apperr.NotFound, apperr.KindOf(err))
	assert.Equal(t, apperr.NotFound, apperr.KindOf(lead.CanConvert(lead.Lead{}, lead.Settings{})))

	merged := lead.Apply(sql, lead.LeadMergedInto{SurvivorLeadID: "l2", At: t0})
	_, err = lead.Convert(merged, conversion(), lead.Settings{}, t0)
	reason, _ := precondition(t, err)
	assert.Equal(t, lead.ReasonMerged, reason)

	// ChangeLeadStatus cannot convert: only ConvertLead names the records.
	_, err = lead.ChangeStatus(sql, lead.StatusChange{To: lead.StatusConverted}, policy(), t0)
	assert.Equal(t, []string{"to"}, violations(t, err))
}
