package service_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/evcrm/evcrm/libs/eventstore"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

const erasedMarker = "[erased]"

// ErasePerson on a lead and a contact over real gRPC and JetStream: the read models show the
// marker and keep the non-personal fields, the erasure is idempotent, the person takes no new
// personal data, and neither the JetStream store nor the read-model files (WAL included) hold
// the email afterwards. A read model rebuilt from the stream ends the same.
func TestErasePerson(t *testing.T) {
	n := testkit.StartNATS(t)
	dataDir := t.TempDir()
	h := start(t, n, dataDir)
	ctx := testkit.As(t, "acme", "dpo")
	const email, contactEmail = "grace.zq9@erase-proof.test", "linus.zq9@erase-proof.test"

	cl, err := h.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{FirstName: "Grace", LastName: "Hopperzq",
		Email: email, Phone: "+1 202 555 0142", City: "Arlington", Company: "Navy Labs", Country: "US",
		Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM}})
	require.NoError(t, err)
	leadID := cl.GetLead().GetId()
	cc, err := h.contacts.CreateContact(ctx, &leadsv1.CreateContactRequest{Contact: &leadsv1.Contact{FirstName: "Linus", LastName: "Tzq",
		Email: contactEmail, JobTitle: "CTO", MailingAddress: &leadsv1.Address{Street: "1 Kernel Way", City: "Portland", PostalCode: "97201", Country: "US"}}})
	require.NoError(t, err)
	contactID := cc.GetContact().GetId()
	got, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: leadID, Read: after(cl.GetResult().GetSequence())})
	require.NoError(t, err)
	require.Equal(t, email, got.GetLead().GetEmail(), "the read model opens the sealed event")
	require.True(t, filesHold(t, dataDir, email, false), "the read model file holds the email before the erasure; the check below would prove nothing")

	el, err := h.client.ErasePerson(ctx, &leadsv1.ErasePersonRequest{Person: &leadsv1.ErasePersonRequest_LeadId{LeadId: leadID}, Reason: "ticket DSR-17"})
	require.NoError(t, err)
	assert.False(t, el.GetAlreadyErased())
	ec, err := h.client.ErasePerson(ctx, &leadsv1.ErasePersonRequest{Person: &leadsv1.ErasePersonRequest_ContactId{ContactId: contactID}})
	require.NoError(t, err)

	gl, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: leadID, Read: after(el.GetResult().GetSequence())})
	require.NoError(t, err)
	checkErasedLead(t, gl.GetLead())
	gc, err := h.contacts.GetContact(ctx, &leadsv1.GetContactRequest{ContactId: contactID, Read: after(ec.GetResult().GetSequence())})
	require.NoError(t, err)
	c := gc.GetContact()
	for _, v := range []string{c.GetFirstName(), c.GetLastName(), c.GetEmail(), c.GetPhone(), c.GetMobilePhone(),
		c.GetMailingAddress().GetStreet(), c.GetMailingAddress().GetCity(), c.GetMailingAddress().GetPostalCode()} {
		assert.Equal(t, erasedMarker, v)
	}
	assert.Equal(t, "CTO", c.GetJobTitle())
	assert.Equal(t, "US", c.GetMailingAddress().GetCountry())

	// Idempotent: nothing more is appended.
	msgs := h.leadsStreamMsgs(t)
	again, err := h.client.ErasePerson(ctx, &leadsv1.ErasePersonRequest{Person: &leadsv1.ErasePersonRequest_LeadId{LeadId: leadID}})
	require.NoError(t, err)
	assert.True(t, again.GetAlreadyErased())
	assert.Equal(t, el.GetResult().GetVersion(), again.GetResult().GetVersion())
	assert.Equal(t, msgs, h.leadsStreamMsgs(t))

	// No new personal data for an erased person.
	_, err = h.client.UpdateLead(ctx, &leadsv1.UpdateLeadRequest{LeadId: leadID, Lead: &leadsv1.Lead{Email: "new@example.com"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"email"}}})
	assert.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	_, err = h.contacts.UpdateContact(ctx, &leadsv1.UpdateContactRequest{ContactId: contactID, Contact: &leadsv1.Contact{Phone: "+1 555"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"phone"}}})
	assert.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	_, err = h.client.ErasePerson(ctx, &leadsv1.ErasePersonRequest{Person: &leadsv1.ErasePersonRequest_LeadId{LeadId: "missing"}})
	assert.Equal(t, codes.NotFound, status.Code(err))
	_, err = h.client.ErasePerson(ctx, &leadsv1.ErasePersonRequest{})
	assert.Equal(t, codes.InvalidArgument, status.Code(err))

	// Nothing of the emails is left on disk: not in the event log or the key bucket, not in the
	// read models, their WAL or their search index.
	// The read models scrub their files right after applying the erasure (which a read
	// already sees), so give them a moment.
	secrets := []string{email, contactEmail, "Hopperzq", "Kernel Way"}
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
	assert.True(t, clean(false), "personal data left on disk after the erasure")

	// A replica that builds its read models from the stream after the erasure ends the same.
	h.stop()
	h2 := start(t, n, t.TempDir())
	gl, err = h2.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: leadID, Read: after(again.GetResult().GetSequence())})
	require.NoError(t, err)
	checkErasedLead(t, gl.GetLead())

	// The address is free again: the erased lead no longer holds its uniqueness claim.
	_, err = h2.client.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{FirstName: "Grace", LastName: "Again", Email: email, Source: leadsv1.LeadSource_LEAD_SOURCE_EVENT}})
	require.NoError(t, err, "%v", status.Convert(err).Details())
}

func checkErasedLead(t *testing.T, l *leadsv1.Lead) {
	t.Helper()
	for _, v := range []string{l.GetFirstName(), l.GetLastName(), l.GetEmail(), l.GetPhone(), l.GetCity()} {
		assert.Equal(t, erasedMarker, v)
	}
	assert.Equal(t, "Navy Labs", l.GetCompany())
	assert.Equal(t, "US", l.GetCountry())
	assert.Equal(t, leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM, l.GetSource())
}

// Events appended before sealing existed (personal fields in clear in the payload) still read:
// the read model shows them, and an erasure marks them like any other.
func TestPlaintextEventsStillRead(t *testing.T) {
	n := testkit.StartNATS(t)
	h := start(t, n, "")
	ctx := testkit.As(t, "acme", "dpo")
	plain, err := eventstore.New(h.nc, eventstore.Options{}) // a writer from before sealing
	require.NoError(t, err)
	ref := eventstore.Ref{Tenant: "acme", Type: "lead", ID: "legacy-1"}
	res, err := plain.Append(context.Background(), ref, eventstore.Position{}, eventstore.Event{Payload: &leadsv1.LeadCreated{
		Lead: &leadsv1.Lead{Id: "legacy-1", LastName: "Oldtimer", Email: "old@example.com", Status: leadsv1.LeadStatus_LEAD_STATUS_NEW}}})
	require.NoError(t, err)
	got, err := h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: "legacy-1", Read: after(res.Position.Sequence)})
	require.NoError(t, err)
	assert.Equal(t, "old@example.com", got.GetLead().GetEmail())

	er, err := h.client.ErasePerson(ctx, &leadsv1.ErasePersonRequest{Person: &leadsv1.ErasePersonRequest_LeadId{LeadId: "legacy-1"}})
	require.NoError(t, err)
	got, err = h.client.GetLead(ctx, &leadsv1.GetLeadRequest{LeadId: "legacy-1", Read: after(er.GetResult().GetSequence())})
	require.NoError(t, err)
	assert.Equal(t, erasedMarker, got.GetLead().GetEmail())
}

// filesHold reports whether a file under dir contains s.
func filesHold(t *testing.T, dir, s string, quiet bool) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			return nil // a WAL or journal removed meanwhile
		}
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(s)) {
			if !quiet {
				t.Logf("%q found in %s", s, path)
			}
			found = true
		}
		return nil
	})
	require.NoError(t, err)
	return found
}
