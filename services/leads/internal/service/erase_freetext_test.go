package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/evcrm/evcrm/libs/eventstore"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// Free text a sales rep types about the person, each distinctive so a leak names its field.
const (
	ftSource     = "referred by Charles zq8source"
	ftAuthority  = "Ada zq8auth signs off herself"
	ftNeed       = "call Ada on +44 20 7946 0815 zq8need"
	ftLeadCustom = "ada.zq8custom@notes.test prefers German"
	ftNote       = "Ada zq8note asked for a German speaker"
	ftDesc       = "met Linus zq8desc at the kernel summit"
	ftDescNew    = "Linus zq8descnew moved to Portland"
	ftContactCF  = "linus zq8contactcf mobile +1 503 555 0199"
)

func stringValue(s string) *leadsv1.CustomValue {
	return &leadsv1.CustomValue{Value: &leadsv1.CustomValue_StringValue{StringValue: s}}
}

// ErasePerson erases the free text of a lead and a contact too: the source detail, the BANT
// notes, custom string fields (created and updated), an assignment note, a contact's
// description. Before the erasure the read models show them while the event log holds them
// only sealed; afterwards the read models show the marker (a rebuilt one too), the non-free
// text facts stay, and no file of the JetStream store or of the read models holds them.
func TestEraseFreeText(t *testing.T) {
	n := testkit.StartNATS(t)
	dataDir := t.TempDir()
	h := start(t, n, dataDir)
	ctx := testkit.As(t, "acme", "dpo")

	for _, f := range []*leadsv1.CustomFieldDefinition{
		{Name: "notes", Type: leadsv1.CustomFieldType_CUSTOM_FIELD_TYPE_STRING, Object: leadsv1.CustomFieldObject_CUSTOM_FIELD_OBJECT_LEAD},
		{Name: "seats", Type: leadsv1.CustomFieldType_CUSTOM_FIELD_TYPE_NUMBER, Object: leadsv1.CustomFieldObject_CUSTOM_FIELD_OBJECT_LEAD},
		{Name: "notes", Type: leadsv1.CustomFieldType_CUSTOM_FIELD_TYPE_STRING, Object: leadsv1.CustomFieldObject_CUSTOM_FIELD_OBJECT_CONTACT},
	} {
		_, err := h.client.DefineCustomField(ctx, &leadsv1.DefineCustomFieldRequest{Field: f})
		require.NoError(t, err)
	}

	cl, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{FirstName: "Ada", LastName: "Freetextzq8",
		Email: "ada.zq8@erase-proof.test", Company: "Analytical Engines", Country: "GB",
		Source: leadsv1.LeadSource_LEAD_SOURCE_REFERRAL, SourceDetail: ftSource,
		CustomFields: map[string]*leadsv1.CustomValue{"notes": stringValue("first note zq8first"),
			"seats": {Value: &leadsv1.CustomValue_NumberValue{NumberValue: 42}}}}})
	require.NoError(t, err)
	leadID := cl.GetLead().GetId()
	_, err = h.client.UpdateLead(ctx, &leadsv1.UpdateLeadRequest{LeadId: leadID,
		Lead:       &leadsv1.Lead{CustomFields: map[string]*leadsv1.CustomValue{"notes": stringValue(ftLeadCustom)}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"custom_fields.notes"}}})
	require.NoError(t, err)
	_, err = h.client.SetBant(ctx, &leadsv1.SetBantRequest{LeadId: leadID, Bant: &leadsv1.Bant{Authority: ftAuthority,
		AuthorityConfirmed: true, Need: ftNeed, NeedConfirmed: true}})
	require.NoError(t, err)
	as, err := h.client.AssignLead(ctx, &leadsv1.AssignLeadRequest{LeadId: leadID, OwnerId: "rep-7", Note: ftNote})
	require.NoError(t, err)

	cc, err := h.contacts.CreateContact(ctx, &leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{FirstName: "Linus",
		LastName: "Freetextzq8", JobTitle: "CTO", Description: ftDesc,
		CustomFields: map[string]*leadsv1.CustomValue{"notes": stringValue(ftContactCF)}}})
	require.NoError(t, err)
	contactID := cc.GetContact().GetId()
	uc, err := h.contacts.UpdateContact(ctx, &leadsv1.UpdateContactRequest{ContactId: contactID,
		Contact: &leadsv1.Contact{Description: ftDescNew}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}}})
	require.NoError(t, err)

	// Before the erasure the read models open the sealed text.
	gl, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: leadID, Read: after(as.GetResult().GetSequence())})
	require.NoError(t, err)
	l := gl.GetLead()
	assert.Equal(t, ftSource, l.GetSourceDetail())
	assert.Equal(t, ftAuthority, l.GetBant().GetAuthority())
	assert.Equal(t, ftNeed, l.GetBant().GetNeed())
	assert.Equal(t, ftLeadCustom, l.GetCustomFields()["notes"].GetStringValue())
	assert.InDelta(t, 42, l.GetCustomFields()["seats"].GetNumberValue(), 0)
	gc, err := h.contacts.GetContact(ctx, &leadsv1.GetContactRequest{ContactId: contactID, Read: after(uc.GetResult().GetSequence())})
	require.NoError(t, err)
	assert.Equal(t, ftDescNew, gc.GetContact().GetDescription())
	assert.Equal(t, ftContactCF, gc.GetContact().GetCustomFields()["notes"].GetStringValue())

	secrets := []string{ftSource, ftAuthority, ftNeed, ftLeadCustom, "zq8first", ftNote, ftDesc, ftDescNew, ftContactCF}
	// The event log holds them only sealed, from the first event on...
	for _, s := range secrets {
		assert.False(t, filesHold(t, n.StoreDir, s, false), "the JetStream store holds %q in clear", s)
	}
	// ...while the read models hold them in clear: the check after the erasure proves something.
	require.True(t, filesHold(t, dataDir, ftNeed, false), "the read model file holds the BANT need before the erasure")

	el, err := h.client.ErasePerson(ctx, &leadsv1.ErasePersonRequest{Person: &leadsv1.ErasePersonRequest_LeadId{LeadId: leadID}, Reason: "DSR-18"})
	require.NoError(t, err)
	ec, err := h.client.ErasePerson(ctx, &leadsv1.ErasePersonRequest{Person: &leadsv1.ErasePersonRequest_ContactId{ContactId: contactID}})
	require.NoError(t, err)

	checkLead := func(l *leadsv1.Lead) {
		t.Helper()
		for _, v := range []string{l.GetSourceDetail(), l.GetBant().GetAuthority(), l.GetBant().GetNeed(),
			l.GetCustomFields()["notes"].GetStringValue(), l.GetEmail()} {
			assert.Equal(t, erasedMarker, v)
		}
		assert.InDelta(t, 42, l.GetCustomFields()["seats"].GetNumberValue(), 0, "a custom number is no free text")
		assert.True(t, l.GetBant().GetAuthorityConfirmed(), "BANT's confirmations are facts")
		assert.Equal(t, "rep-7", l.GetOwnerId())
		assert.Equal(t, "Analytical Engines", l.GetCompany())
	}
	checkContact := func(c *leadsv1.Contact) {
		t.Helper()
		assert.Equal(t, erasedMarker, c.GetDescription())
		assert.Equal(t, erasedMarker, c.GetCustomFields()["notes"].GetStringValue())
		assert.Equal(t, "CTO", c.GetJobTitle())
	}
	gl, err = h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: leadID, Read: after(el.GetResult().GetSequence())})
	require.NoError(t, err)
	checkLead(gl.GetLead())
	gc, err = h.contacts.GetContact(ctx, &leadsv1.GetContactRequest{ContactId: contactID, Read: after(ec.GetResult().GetSequence())})
	require.NoError(t, err)
	checkContact(gc.GetContact())

	clean := func(quiet bool) bool {
		ok := true
		for _, s := range secrets {
			for _, dir := range []string{n.StoreDir, dataDir} {
				if filesHold(t, dir, s, quiet) {
					ok = false
				}
			}
		}
		return ok
	}
	deadline := time.Now().Add(10 * time.Second)
	for !clean(true) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	assert.True(t, clean(false), "free text left on disk after the erasure")

	// A replica that builds its read models from the stream after the erasure ends the same.
	h.stop()
	h2 := start(t, n, t.TempDir())
	gl, err = h2.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: leadID, Read: after(ec.GetResult().GetSequence())})
	require.NoError(t, err)
	checkLead(gl.GetLead())
	gc, err = h2.contacts.GetContact(ctx, &leadsv1.GetContactRequest{ContactId: contactID, Read: after(ec.GetResult().GetSequence())})
	require.NoError(t, err)
	checkContact(gc.GetContact())
}

// Free text appended in clear before it was sealed (a writer from before this change) still
// reads, and an erasure marks it in the read model like sealed text.
func TestPlaintextFreeTextStillReads(t *testing.T) {
	n := testkit.StartNATS(t)
	h := start(t, n, "")
	ctx := testkit.As(t, "acme", "dpo")
	_, err := h.client.DefineCustomField(ctx, &leadsv1.DefineCustomFieldRequest{Field: &leadsv1.CustomFieldDefinition{
		Name: "notes", Type: leadsv1.CustomFieldType_CUSTOM_FIELD_TYPE_STRING, Object: leadsv1.CustomFieldObject_CUSTOM_FIELD_OBJECT_LEAD}})
	require.NoError(t, err)
	plain, err := eventstore.New(h.nc, eventstore.Options{}) // no sealing
	require.NoError(t, err)
	ref := eventstore.Ref{Tenant: "acme", Type: "lead", ID: "legacy-ft"}
	res, err := plain.Append(context.Background(), ref, eventstore.Position{}, eventstore.Event{Payload: &leadsv1.LeadCreated{
		Lead: &leadsv1.Lead{Id: "legacy-ft", LastName: "Oldtimer", Status: leadsv1.LeadStatus_LEAD_STATUS_NEW, SourceDetail: ftSource,
			Bant:         &leadsv1.Bant{Need: ftNeed},
			CustomFields: map[string]*leadsv1.CustomValue{"notes": stringValue(ftLeadCustom)}}}})
	require.NoError(t, err)
	got, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: "legacy-ft", Read: after(res.Position.Sequence)})
	require.NoError(t, err)
	assert.Equal(t, ftSource, got.GetLead().GetSourceDetail())
	assert.Equal(t, ftNeed, got.GetLead().GetBant().GetNeed())
	assert.Equal(t, ftLeadCustom, got.GetLead().GetCustomFields()["notes"].GetStringValue())

	er, err := h.client.ErasePerson(ctx, &leadsv1.ErasePersonRequest{Person: &leadsv1.ErasePersonRequest_LeadId{LeadId: "legacy-ft"}})
	require.NoError(t, err)
	got, err = h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: "legacy-ft", Read: after(er.GetResult().GetSequence())})
	require.NoError(t, err)
	assert.Equal(t, erasedMarker, got.GetLead().GetSourceDetail())
	assert.Equal(t, erasedMarker, got.GetLead().GetBant().GetNeed())
	assert.Equal(t, erasedMarker, got.GetLead().GetCustomFields()["notes"].GetStringValue())
}
