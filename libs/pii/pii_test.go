package pii_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/pii"
	"github.com/evcrm/evcrm/libs/testkit"
)

var _ eventstore.PersonalData = (*pii.Sealer)(nil)

const email = "ada.zq7@erase-proof.test"

func newKV(t *testing.T, js jetstream.JetStream, ttl time.Duration) *pii.KV {
	t.Helper()
	kv, err := pii.OpenKV(t.Context(), js, pii.KVOptions{CacheTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func envelope(typ, id string, msg proto.Message) *eventsv1.Envelope {
	body, _ := proto.Marshal(msg)
	return &eventsv1.Envelope{EventId: "ev-" + id, TenantId: "acme", AggregateType: typ, AggregateId: id, AggregateVersion: 1,
		EventType: string(msg.ProtoReflect().Descriptor().FullName()), Payload: body}
}

func created() *leadsv1.LeadCreated {
	return &leadsv1.LeadCreated{Lead: &leadsv1.Lead{Id: "L1", FirstName: "Ada", LastName: "Lovelace", Email: email,
		Phone: "+44 20 7946 0000", City: "London", Company: "Analytical Engines", Country: "GB", Tags: []string{"vip"}}}
}

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	js := testkit.StartNATS(t).JetStream(t)
	s := pii.NewSealer(newKV(t, js, 0), "lead", "contact")
	ctx := t.Context()

	msg := created()
	env := envelope("lead", "L1", msg)
	if err := s.Seal(ctx, env, msg); err != nil {
		t.Fatal(err)
	}
	wire, _ := proto.Marshal(env)
	for _, secret := range []string{email, "Lovelace", "London", "7946"} {
		if bytes.Contains(wire, []byte(secret)) {
			t.Errorf("the sealed envelope holds %q in clear", secret)
		}
	}
	pd := env.GetPersonalData()
	if pd.GetDataSubjectId() != "L1" || pd.GetKeyId() == "" || len(pd.GetNonce()) != 12 ||
		pd.GetAlgorithm() != eventsv1.EncryptionAlgorithm_ENCRYPTION_ALGORITHM_AES_256_GCM {
		t.Errorf("personal data block = %v", pd)
	}
	var stripped leadsv1.LeadCreated
	if err := proto.Unmarshal(env.GetPayload(), &stripped); err != nil {
		t.Fatal(err)
	}
	if l := stripped.GetLead(); l.GetEmail() != "" || l.GetCompany() != "Analytical Engines" || l.GetCountry() != "GB" || len(l.GetTags()) != 1 {
		t.Errorf("payload after sealing = %v; want the non-personal fields only", l)
	}

	if err := s.Open(ctx, env); err != nil {
		t.Fatal(err)
	}
	var opened leadsv1.LeadCreated
	if err := proto.Unmarshal(env.GetPayload(), &opened); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&opened, msg) || env.GetPersonalData() != nil {
		t.Errorf("opened = %v, want %v", &opened, msg)
	}

	// Not a person, or nothing personal: left alone.
	for _, c := range []struct {
		typ string
		msg proto.Message
	}{
		{"account", &leadsv1.AccountCreated{Account: &leadsv1.Account{Name: "Acme", BillingAddress: &leadsv1.Address{Street: "1 Main St"}}}},
		{"lead", &leadsv1.LeadStatusChanged{From: leadsv1.LeadStatus_LEAD_STATUS_NEW}},
	} {
		env := envelope(c.typ, "X1", c.msg)
		before := proto.Clone(env)
		if err := s.Seal(ctx, env, c.msg); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(env, before) {
			t.Errorf("%s %T was changed by Seal", c.typ, c.msg)
		}
	}
}

func TestOpenRefusesMovedOrTamperedCiphertext(t *testing.T) {
	t.Parallel()
	js := testkit.StartNATS(t).JetStream(t)
	s := pii.NewSealer(newKV(t, js, 0), "lead")
	ctx := t.Context()
	seal := func() *eventsv1.Envelope {
		msg := created()
		env := envelope("lead", "L1", msg)
		if err := s.Seal(ctx, env, msg); err != nil {
			t.Fatal(err)
		}
		return env
	}
	for name, tamper := range map[string]func(*eventsv1.Envelope){
		"other tenant":     func(e *eventsv1.Envelope) { e.TenantId = "globex" },
		"other event id":   func(e *eventsv1.Envelope) { e.EventId = "ev-other" },
		"other event type": func(e *eventsv1.Envelope) { e.EventType = "crm.leads.v1.LeadDetailsUpdated" },
		"flipped bit":      func(e *eventsv1.Envelope) { e.PersonalData.Ciphertext[0] ^= 1 },
		"other key id":     func(e *eventsv1.Envelope) { e.PersonalData.KeyId = "k-unknown" },
	} {
		env := seal()
		tamper(env)
		if err := s.Open(ctx, env); err == nil {
			t.Errorf("%s: Open succeeded", name)
		}
		if env.GetPersonalData() == nil {
			t.Errorf("%s: a failed Open changed the envelope", name)
		}
	}
}

func TestEventsInClearStillRead(t *testing.T) {
	t.Parallel()
	js := testkit.StartNATS(t).JetStream(t)
	s := pii.NewSealer(newKV(t, js, 0), "lead")
	msg := created()
	env := envelope("lead", "L1", msg) // as appended before sealing existed
	if err := s.Open(t.Context(), env); err != nil {
		t.Fatal(err)
	}
	var got leadsv1.LeadCreated
	if err := proto.Unmarshal(env.GetPayload(), &got); err != nil || got.GetLead().GetEmail() != email {
		t.Errorf("plaintext event read as %v (%v)", &got, err)
	}
}

// Destroy is crypto-shredding: sealed events no longer open (they read without their personal
// fields), no new key is issued, another process sees it, and the key's bytes are gone from
// the JetStream store files, not only from the KV's view.
func TestDestroyShredsTheKey(t *testing.T) {
	t.Parallel()
	srv := testkit.StartNATS(t)
	js := srv.JetStream(t)
	ctx := t.Context()
	keys := newKV(t, js, 0)
	other := newKV(t, srv.JetStream(t), -1) // a second process, no cache
	s := pii.NewSealer(keys, "lead")

	msg := created()
	env := envelope("lead", "L1", msg)
	if err := s.Seal(ctx, env, msg); err != nil {
		t.Fatal(err)
	}
	key, err := keys.DataKey(ctx, "acme", "L1")
	if err != nil {
		t.Fatal(err)
	}
	if k2, err := other.Key(ctx, "acme", "L1", key.ID); err != nil || !bytes.Equal(k2.Bytes, key.Bytes) {
		t.Fatalf("the other process reads key %v (%v)", k2, err)
	}
	// Another subject's key stays.
	if _, err := keys.DataKey(ctx, "acme", "L2"); err != nil {
		t.Fatal(err)
	}
	if !storeHolds(t, srv.StoreDir, key.Bytes) {
		t.Fatal("the key bytes are not in the store files before Destroy; the check below would prove nothing")
	}

	if err := keys.Destroy(ctx, "acme", "L1"); err != nil {
		t.Fatal(err)
	}
	if err := keys.Destroy(ctx, "acme", "L1"); err != nil {
		t.Fatalf("second Destroy: %v", err)
	}
	for name, ks := range map[string]pii.KeyStore{"same process": keys, "other process": other} {
		if _, err := ks.DataKey(ctx, "acme", "L1"); !errors.Is(err, pii.ErrErased) {
			t.Errorf("%s: DataKey after Destroy = %v, want ErrErased", name, err)
		}
		if _, err := ks.Key(ctx, "acme", "L1", key.ID); !errors.Is(err, pii.ErrErased) {
			t.Errorf("%s: Key after Destroy = %v, want ErrErased", name, err)
		}
	}
	if _, err := keys.DataKey(ctx, "acme", "L2"); err != nil {
		t.Errorf("another person's key: %v", err)
	}

	opened := proto.Clone(env).(*eventsv1.Envelope)
	if err := pii.NewSealer(other, "lead").Open(ctx, opened); err != nil {
		t.Fatalf("Open of an erased person's event: %v", err)
	}
	var got leadsv1.LeadCreated
	if err := proto.Unmarshal(opened.GetPayload(), &got); err != nil {
		t.Fatal(err)
	}
	if got.GetLead().GetEmail() != "" || got.GetLead().GetCompany() != "Analytical Engines" {
		t.Errorf("erased event reads %v; want the non-personal fields only", got.GetLead())
	}

	again := envelope("lead", "L1", msg)
	err = s.Seal(ctx, again, msg)
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.FailedPrecondition || !errors.Is(err, pii.ErrErased) {
		t.Errorf("Seal for an erased person = %v, want FailedPrecondition wrapping ErrErased", err)
	}

	// A subject erased before it ever had a key is refused a key from then on.
	if err := keys.Destroy(ctx, "acme", "L3"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.DataKey(ctx, "acme", "L3"); !errors.Is(err, pii.ErrErased) {
		t.Errorf("DataKey of a subject erased without a key = %v", err)
	}

	if storeHolds(t, srv.StoreDir, key.Bytes) {
		t.Error("the destroyed key's bytes are still in the JetStream store files")
	}
}

// storeHolds reports whether any file under dir holds needle (the KV stores the key as
// base64 inside JSON, so both spellings are looked for).
func storeHolds(t *testing.T, dir string, key []byte) bool {
	t.Helper()
	needles := [][]byte{key, []byte(base64.StdEncoding.EncodeToString(key))}
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				t.Logf("found in %s", path)
				found = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// Through the event store: what lands in the stream is sealed, what Load returns is open.
func TestEventStoreSealsAndOpens(t *testing.T) {
	t.Parallel()
	srv := testkit.StartNATS(t)
	nc := srv.Connect(t)
	js := srv.JetStream(t)
	ctx := context.Background()
	if err := eventstore.EnsureStreams(ctx, js, eventstore.StreamOptions{}, eventstore.LeadsStream); err != nil {
		t.Fatal(err)
	}
	sealer := pii.NewSealer(newKV(t, js, 0), "lead", "contact")
	es, err := eventstore.New(nc, eventstore.Options{PersonalData: sealer})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := eventstore.New(nc, eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ref := eventstore.Ref{Tenant: "acme", Type: "lead", ID: "L1"}
	// An event from before sealing, then a sealed one: both read back in clear.
	res, err := plain.Append(ctx, ref, eventstore.Position{}, eventstore.Event{Payload: created()})
	if err != nil {
		t.Fatal(err)
	}
	upd := &leadsv1.LeadDetailsUpdated{ChangedFields: []string{"email"}, Before: &leadsv1.Lead{Email: email}, After: &leadsv1.Lead{Email: "new." + email}}
	res2, err := es.Append(ctx, ref, res.Position, eventstore.Event{Payload: upd})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := js.Stream(ctx, "CRM_LEADS")
	raw, err := st.GetMsg(ctx, res2.Position.Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw.Data, []byte(email)) {
		t.Error("the stored sealed event holds the email in clear")
	}
	recs, _, err := es.Load(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("loaded %d events", len(recs))
	}
	got, err := recs[1].Payload()
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, upd) {
		t.Errorf("sealed event loads as %v, want %v", got, upd)
	}
	first, _ := recs[0].Payload()
	if first.(*leadsv1.LeadCreated).GetLead().GetEmail() != email {
		t.Errorf("plaintext event loads as %v", first)
	}
}

// Seal finds personal fields through singular message fields and map values only; none may
// sit below a repeated field of an event payload (the messages of the events files).
func TestNoPersonalFieldBelowARepeatedField(t *testing.T) {
	t.Parallel()
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(fd.Package()), "crm.") || !strings.HasSuffix(fd.Path(), "events.proto") {
			return true
		}
		msgs := fd.Messages()
		for i := range msgs.Len() {
			if bad := pii.UnreachableFields(msgs.Get(i)); len(bad) > 0 {
				t.Errorf("%s: personal fields below a repeated field: %v", msgs.Get(i).FullName(), bad)
			}
		}
		return true
	})
}
