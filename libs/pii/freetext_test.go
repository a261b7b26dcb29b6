package pii_test

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/pii"
	"github.com/evcrm/evcrm/libs/testkit"
)

// Distinctive free text a sales rep might type about the person.
const (
	noteText   = "call Ada zq7 on +44 20 7946 1111"
	needText   = "Ada zq7 needs a difference engine"
	sourceText = "referred by Charles zq7"
	customText = "Ada zq7 prefers German"
)

func freeTextLead() *leadsv1.LeadCreated {
	return &leadsv1.LeadCreated{Lead: &leadsv1.Lead{Id: "L1", Email: email, Company: "Analytical Engines",
		SourceDetail: sourceText,
		Bant:         &leadsv1.Bant{Authority: noteText, AuthorityConfirmed: true, Need: needText, BudgetConfirmed: true},
		CustomFields: map[string]*leadsv1.CustomValue{
			"notes": {Value: &leadsv1.CustomValue_StringValue{StringValue: customText}},
			"seats": {Value: &leadsv1.CustomValue_NumberValue{NumberValue: 42}},
			"paid":  {Value: &leadsv1.CustomValue_BoolValue{BoolValue: true}},
			"since": {Value: &leadsv1.CustomValue_DateValue{DateValue: "2026-01-02"}},
		}}}
}

// Free text of leads and contacts — source detail, BANT notes, custom string values (a oneof
// member inside the values of a map), a contact's description, an assignment note — is sealed
// and opens back exactly; the custom fields' names and their number, bool and date values stay
// in clear in the payload.
func TestSealsFreeTextAndCustomStrings(t *testing.T) {
	t.Parallel()
	s := pii.NewSealer(newKV(t, testkit.StartNATS(t).JetStream(t), 0), "lead", "contact")
	ctx := t.Context()
	for _, c := range []struct {
		typ     string
		msg     proto.Message
		secrets []string
	}{
		{"lead", freeTextLead(), []string{email, noteText, needText, sourceText, customText}},
		{"lead", &leadsv1.LeadDetailsUpdated{ChangedFields: []string{"custom_fields.notes"},
			Before: &leadsv1.Lead{CustomFields: map[string]*leadsv1.CustomValue{"notes": {Value: &leadsv1.CustomValue_StringValue{StringValue: noteText}}}},
			After:  &leadsv1.Lead{CustomFields: map[string]*leadsv1.CustomValue{"notes": {Value: &leadsv1.CustomValue_StringValue{StringValue: customText}}}}},
			[]string{noteText, customText}},
		{"lead", &leadsv1.BantUpdated{Bant: &leadsv1.Bant{Authority: noteText, Need: needText, NeedConfirmed: true}}, []string{noteText, needText}},
		{"lead", &leadsv1.LeadAssigned{OwnerId: "u2", Note: noteText}, []string{noteText}},
		{"contact", &leadsv1.ContactCreated{Contact: &leadsv1.Contact{Id: "C1", LastName: "Lovelace", Description: noteText, JobTitle: "CTO",
			CustomFields: map[string]*leadsv1.CustomValue{"notes": {Value: &leadsv1.CustomValue_StringValue{StringValue: customText}}}}},
			[]string{"Lovelace", noteText, customText}},
	} {
		env := envelope(c.typ, "X1", c.msg)
		if err := s.Seal(ctx, env, c.msg); err != nil {
			t.Fatal(err)
		}
		if env.GetPersonalData() == nil {
			t.Errorf("%T: not sealed", c.msg)
			continue
		}
		wire, _ := proto.Marshal(env)
		for _, secret := range c.secrets {
			if bytes.Contains(wire, []byte(secret)) {
				t.Errorf("%T: the sealed envelope holds %q in clear", c.msg, secret)
			}
		}
		if err := s.Open(ctx, env); err != nil {
			t.Fatal(err)
		}
		opened := c.msg.ProtoReflect().New().Interface()
		if err := proto.Unmarshal(env.GetPayload(), opened); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(opened, c.msg) {
			t.Errorf("%T opened as %v, want %v", c.msg, opened, c.msg)
		}
	}

	// What stays in clear for consumers without the key: names of custom fields, their
	// non-string values, the BANT flags.
	msg := freeTextLead()
	env := envelope("lead", "L1", msg)
	if err := s.Seal(ctx, env, msg); err != nil {
		t.Fatal(err)
	}
	var stripped leadsv1.LeadCreated
	if err := proto.Unmarshal(env.GetPayload(), &stripped); err != nil {
		t.Fatal(err)
	}
	l := stripped.GetLead()
	cf := l.GetCustomFields()
	if len(cf) != 4 || cf["notes"].GetValue() != nil || cf["seats"].GetNumberValue() != 42 || !cf["paid"].GetBoolValue() ||
		cf["since"].GetDateValue() != "2026-01-02" {
		t.Errorf("custom fields in clear = %v; want the names, and the values but the string one", cf)
	}
	if b := l.GetBant(); b.GetAuthority() != "" || b.GetNeed() != "" || !b.GetAuthorityConfirmed() || !b.GetBudgetConfirmed() ||
		l.GetSourceDetail() != "" || l.GetCompany() != "Analytical Engines" {
		t.Errorf("payload in clear = %v; want the non-personal fields only", l)
	}

	// An account is no person: its description and custom strings stay in clear.
	acc := &leadsv1.AccountCreated{Account: &leadsv1.Account{Name: "Acme", Description: noteText,
		CustomFields: map[string]*leadsv1.CustomValue{"notes": {Value: &leadsv1.CustomValue_StringValue{StringValue: customText}}}}}
	aenv := envelope("account", "A1", acc)
	if err := s.Seal(ctx, aenv, acc); err != nil || aenv.GetPersonalData() != nil {
		t.Errorf("account sealed (%v, %v)", aenv.GetPersonalData(), err)
	}
}

// Strip (the analytics projector's scrub of events stored in clear) clears custom string values
// inside the map too, keeping the entries' names and the other values.
func TestStripClearsCustomStrings(t *testing.T) {
	t.Parallel()
	msg := freeTextLead()
	if !pii.Strip(msg) {
		t.Fatal("Strip found nothing personal")
	}
	wire, _ := proto.Marshal(msg)
	for _, secret := range []string{email, noteText, needText, sourceText, customText} {
		if bytes.Contains(wire, []byte(secret)) {
			t.Errorf("stripped payload holds %q", secret)
		}
	}
	if cf := msg.GetLead().GetCustomFields(); len(cf) != 4 || cf["seats"].GetNumberValue() != 42 {
		t.Errorf("custom fields after Strip = %v", cf)
	}
}

// An event sealed before the free text was marked holds the email sealed and the BANT note in
// clear in its payload: it opens with both (opening only adds the sealed fields back).
func TestSealedBeforeFreeTextWasMarkedStillOpens(t *testing.T) {
	t.Parallel()
	s := pii.NewSealer(newKV(t, testkit.StartNATS(t).JetStream(t), 0), "lead")
	msg := &leadsv1.LeadCreated{Lead: &leadsv1.Lead{Id: "L1", Email: email}}
	env := envelope("lead", "L1", msg)
	if err := s.Seal(t.Context(), env, msg); err != nil {
		t.Fatal(err)
	}
	var old leadsv1.LeadCreated // the payload as the older sealer left it: need not stripped
	if err := proto.Unmarshal(env.GetPayload(), &old); err != nil {
		t.Fatal(err)
	}
	old.Lead.Bant = &leadsv1.Bant{Need: needText}
	env.Payload, _ = proto.Marshal(&old)
	if err := s.Open(t.Context(), env); err != nil {
		t.Fatal(err)
	}
	var got leadsv1.LeadCreated
	if err := proto.Unmarshal(env.GetPayload(), &got); err != nil {
		t.Fatal(err)
	}
	if got.GetLead().GetEmail() != email || got.GetLead().GetBant().GetNeed() != needText {
		t.Errorf("opened as %v", &got)
	}
}
