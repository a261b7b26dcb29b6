package pii

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/evcrm/evcrm/libs/apperr"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
)

// Sealer moves the personal fields of people's events into the envelope's encrypted
// PersonalData before they are appended, and puts them back when events are read. It
// implements eventstore.PersonalData; projections use it through Handler.
//
// Which events: those of the aggregate types given to NewSealer (lead, contact), whose
// aggregate id is the data subject. Which fields: every field marked (crm.events.v1.pii) that
// is reachable from the payload through singular message fields and the message values of map
// fields (LeadCreated.lead.email, LeadDetailsUpdated.after.phone,
// ContactCreated.contact.mailing_address.street, LeadCreated.lead.custom_fields["x"].string_value).
// The payload keeps everything else, so consumers that need no personal data need no key.
type Sealer struct {
	keys  KeyStore
	types map[string]bool
}

// NewSealer returns a Sealer with keys from keys for the aggregates of the given types.
func NewSealer(keys KeyStore, aggregateTypes ...string) *Sealer {
	s := &Sealer{keys: keys, types: map[string]bool{}}
	for _, t := range aggregateTypes {
		s.types[t] = true
	}
	return s
}

// Keys is the sealer's key store.
func (s *Sealer) Keys() KeyStore { return s.keys }

// Seal replaces env's payload by payload without its personal fields and sets
// env.PersonalData to those fields, encrypted. Events of other aggregate types, and payloads
// without personal data, are left as they are. It fails with an apperr FailedPrecondition
// (reason PERSON_ERASED, wrapping ErrErased) when the person was erased.
func (s *Sealer) Seal(ctx context.Context, env *eventsv1.Envelope, payload proto.Message) error {
	if !s.types[env.GetAggregateType()] {
		return nil
	}
	personal := proto.Clone(payload)
	if !keepOnly(personal.ProtoReflect()) {
		return nil
	}
	stripped := proto.Clone(payload)
	Strip(stripped)
	key, err := s.keys.DataKey(ctx, env.GetTenantId(), env.GetAggregateId())
	if errors.Is(err, ErrErased) {
		return &apperr.Error{Kind: apperr.FailedPrecondition, Reason: "PERSON_ERASED",
			Message: "the person was erased; their personal data cannot be written again", Err: err}
	}
	if err != nil {
		return err
	}
	plain, err := proto.MarshalOptions{Deterministic: true}.Marshal(personal)
	if err != nil {
		return fmt.Errorf("pii: marshal personal data: %w", err)
	}
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(stripped)
	if err != nil {
		return fmt.Errorf("pii: marshal payload: %w", err)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("pii: nonce: %w", err)
	}
	pd := &eventsv1.PersonalData{
		DataSubjectId: env.GetAggregateId(),
		KeyId:         key.ID,
		Algorithm:     eventsv1.EncryptionAlgorithm_ENCRYPTION_ALGORITHM_AES_256_GCM,
		Nonce:         nonce,
	}
	pd.Ciphertext = aead.Seal(nil, nonce, plain, associatedData(env, pd))
	env.Payload, env.PersonalData = body, pd
	return nil
}

// Open puts the personal fields of a sealed envelope back into its payload and clears
// PersonalData, so the envelope reads like one that was never sealed. An envelope without
// PersonalData (appended before sealing, or of an aggregate that is no person) is left as it
// is. When the person was erased the personal fields stay absent and PersonalData is cleared:
// the event reads as if those fields had never been set, and nil is returned. Any other
// failure (the key store unreachable, an unknown key, a ciphertext that does not authenticate)
// is an error and env is unchanged.
func (s *Sealer) Open(ctx context.Context, env *eventsv1.Envelope) error {
	pd := env.GetPersonalData()
	if pd == nil {
		return nil
	}
	if pd.GetAlgorithm() != eventsv1.EncryptionAlgorithm_ENCRYPTION_ALGORITHM_AES_256_GCM {
		return fmt.Errorf("pii: event %s: unknown algorithm %v", env.GetEventId(), pd.GetAlgorithm())
	}
	key, err := s.keys.Key(ctx, env.GetTenantId(), pd.GetDataSubjectId(), pd.GetKeyId())
	if errors.Is(err, ErrErased) {
		env.PersonalData = nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("pii: event %s: %w", env.GetEventId(), err)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return err
	}
	plain, err := aead.Open(nil, pd.GetNonce(), pd.GetCiphertext(), associatedData(env, pd))
	if err != nil {
		return fmt.Errorf("pii: event %s: personal data does not authenticate: %w", env.GetEventId(), err)
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(env.GetEventType()))
	if err != nil {
		return fmt.Errorf("pii: event %s: unknown type %q: %w", env.GetEventId(), env.GetEventType(), err)
	}
	msg, personal := mt.New().Interface(), mt.New().Interface()
	if err := proto.Unmarshal(env.GetPayload(), msg); err != nil {
		return fmt.Errorf("pii: event %s: payload: %w", env.GetEventId(), err)
	}
	if err := proto.Unmarshal(plain, personal); err != nil {
		return fmt.Errorf("pii: event %s: personal data: %w", env.GetEventId(), err)
	}
	merge(msg.ProtoReflect(), personal.ProtoReflect())
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
	if err != nil {
		return fmt.Errorf("pii: event %s: %w", env.GetEventId(), err)
	}
	env.Payload, env.PersonalData = body, nil
	return nil
}

// associatedData binds a ciphertext to its event: tenant, aggregate, data subject, event id
// and type, key id. Moved into another event, or with any of these changed, it does not
// authenticate. The event type names the payload message, i.e. which fields it can hold.
func associatedData(env *eventsv1.Envelope, pd *eventsv1.PersonalData) []byte {
	var b []byte
	for _, s := range []string{"evcrm-pii-v1", env.GetTenantId(), env.GetAggregateType(), env.GetAggregateId(),
		pd.GetDataSubjectId(), env.GetEventId(), env.GetEventType(), pd.GetKeyId()} {
		b = append(b, s...)
		b = append(b, 0)
	}
	return b
}

func newAEAD(key Key) (cipher.AEAD, error) {
	if len(key.Bytes) != 32 {
		return nil, fmt.Errorf("pii: key %s is not 256 bits", key.ID)
	}
	block, err := aes.NewCipher(key.Bytes)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
