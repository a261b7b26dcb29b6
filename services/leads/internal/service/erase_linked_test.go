package service_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// ErasePerson follows the person: erasing a duplicate that was merged into a lead also erases
// the survivor (the same person), the contact the survivor was converted into, in one call and
// named in the answer; a bystander keeps everything. Erasing again from the contact finds them
// all erased and appends nothing.
func TestErasePersonFollowsTheSamePerson(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	h := startService(t, n, harnessOptions{})
	ctx := as(t, "acme", "dpo")

	dup, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead("dup.zq7@erase-proof.test")})
	require.NoError(t, err)
	survivor := sqlLead(t, h.client, "main.zq7@erase-proof.test", leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED)
	_, err = h.client.MergeLeads(ctx, &leadsv1.MergeLeadsRequest{SurvivorId: survivor.GetId(), MergedId: dup.GetLead().GetId()})
	require.NoError(t, err)
	conv, err := h.client.ConvertLead(ctx, &leadsv1.ConvertLeadRequest{LeadId: survivor.GetId()})
	require.NoError(t, err)
	contactID := conv.GetContactId()
	require.NotEmpty(t, contactID)
	bystander, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: newLead("bystander.zq7@example.com")})
	require.NoError(t, err)

	res, err := h.client.ErasePerson(ctx, &leadsv1.ErasePersonRequest{Person: &leadsv1.ErasePersonRequest_LeadId{LeadId: dup.GetLead().GetId()},
		Reason: "DSR-77"})
	require.NoError(t, err)
	assert.False(t, res.GetAlreadyErased())
	assert.Equal(t, []string{survivor.GetId()}, res.GetErasedLeadIds())
	assert.Equal(t, []string{contactID}, res.GetErasedContactIds())

	// The named record is erased last, so its sequence covers the others'.
	read := after(res.GetResult().GetSequence())
	for _, id := range []string{dup.GetLead().GetId(), survivor.GetId()} {
		gl, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: id, Read: read})
		require.NoError(t, err)
		for _, v := range []string{gl.GetLead().GetFirstName(), gl.GetLead().GetLastName(), gl.GetLead().GetEmail(), gl.GetLead().GetPhone()} {
			assert.Equal(t, erasedMarker, v, "lead %s", id)
		}
	}
	gc, err := h.contacts.GetContact(ctx, &leadsv1.GetContactRequest{ContactId: contactID, Read: read})
	require.NoError(t, err)
	assert.Equal(t, erasedMarker, gc.GetContact().GetEmail())
	assert.Equal(t, erasedMarker, gc.GetContact().GetLastName())
	gb, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: bystander.GetLead().GetId(), Read: read})
	require.NoError(t, err)
	assert.Equal(t, "bystander.zq7@example.com", gb.GetLead().GetEmail())

	msgs := h.leadsStreamMsgs(t)
	again, err := h.client.ErasePerson(ctx, &leadsv1.ErasePersonRequest{Person: &leadsv1.ErasePersonRequest_ContactId{ContactId: contactID}})
	require.NoError(t, err)
	assert.True(t, again.GetAlreadyErased())
	assert.ElementsMatch(t, []string{survivor.GetId(), dup.GetLead().GetId()}, again.GetErasedLeadIds(), "from the contact: its lead, and that lead's duplicate")
	assert.Empty(t, again.GetErasedContactIds())
	assert.Equal(t, msgs, h.leadsStreamMsgs(t), "erasing erased people appends nothing")
}
