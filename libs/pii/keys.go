// Package pii erases people from an append-only event log by crypto-shredding (DESIGN.md §3,
// docs/security.md "Erasure").
//
// Every person (a lead, a contact: the data subject) gets a random 256-bit data key, kept in a
// KeyStore outside the event log. The event store seals the personal fields of a person's events
// (the payload fields marked (crm.events.v1.pii)) with that key before it appends them: it moves
// them out of the payload into the envelope's PersonalData, encrypted with AES-256-GCM. Readers
// open them again through the KeyStore. Destroying the key (ErasePerson) makes every copy of
// those fields unreadable at once — in the stream, its replicas and backups, dead letters, and
// anything that kept the envelope — without rewriting the log.
//
// An envelope without PersonalData is read as it always was: events appended before sealing
// existed (or by a writer without a Sealer) keep their personal fields in clear in the payload.
package pii

import (
	"context"
	"errors"
)

// Marker replaces a personal field of an erased person in read models and reports.
const Marker = "[erased]"

// ErrErased means the data subject was erased: their key is destroyed and no new key is ever
// issued for them, so personal data about them can be neither read nor written.
var ErrErased = errors.New("pii: the person was erased")

// Key is a data key: its id (recorded in every envelope it sealed, so keys can be rotated) and
// 32 bytes of AES-256 key material.
type Key struct {
	ID    string
	Bytes []byte
}

// KeyStore holds the data keys of data subjects, outside the event log. Subjects are scoped by
// tenant. Implementations must be safe for concurrent use by several processes: two writers
// asking for the key of a new subject at once must end up with the same key.
//
// JetStream KV implements it (KV); a KMS-backed store (envelope encryption with a key
// encryption key that never leaves the KMS) can replace it behind this interface.
type KeyStore interface {
	// DataKey returns the subject's current key, creating it on first use. ErrErased when the
	// subject was erased.
	DataKey(ctx context.Context, tenant, subject string) (Key, error)
	// Key returns the subject's key with the given id. ErrErased when the subject was erased;
	// an error wrapping ErrUnknownKey when no such key exists.
	Key(ctx context.Context, tenant, subject, keyID string) (Key, error)
	// Destroy erases the subject: every key it had is destroyed beyond recovery and the subject
	// is marked erased, so DataKey refuses it from then on. Destroying an erased subject, or
	// one that never had a key, succeeds (the latter is then marked erased too).
	Destroy(ctx context.Context, tenant, subject string) error
}

// ErrUnknownKey means a key id names no key of the subject: the envelope was sealed with a key
// this store never held (a wrong key store, or tampering).
var ErrUnknownKey = errors.New("pii: unknown data key")
