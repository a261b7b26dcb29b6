package protomap

import (
	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
)

// Read is the read-your-writes option of a query (crm.common.v1.ReadOptions).
type Read struct {
	// MinSequence, when non-zero, is the stream sequence the read model must have applied
	// before answering.
	MinSequence uint64
}

// Write holds the options of a command (crm.common.v1.WriteOptions).
type Write struct {
	// IdempotencyKey is the client's key ("" for none): a retry with the same key returns the
	// first outcome.
	IdempotencyKey string
	// ExpectedVersion, when set, makes the command fail with a conflict unless the record is at
	// this version.
	ExpectedVersion *uint64
}

// ReadFromProto maps the read-your-writes option of a query.
func ReadFromProto(o *commonv1.ReadOptions) Read { return Read{MinSequence: o.GetMinSequence()} }

// WriteFromProto maps the options of a command. A non-empty idempotency key must be 1 to 255
// printable ASCII characters without spaces (eventstore.ValidateIdempotencyKey), else the error
// is Invalid on "options.idempotency_key".
func WriteFromProto(o *commonv1.WriteOptions) (Write, error) {
	w := Write{IdempotencyKey: o.GetIdempotencyKey()}
	if o != nil && o.ExpectedVersion != nil {
		ev := o.GetExpectedVersion()
		w.ExpectedVersion = &ev
	}
	var v apperr.Violations
	checkIdempotencyKey(w.IdempotencyKey, "options.idempotency_key", &v)
	if err := v.Err("invalid write options"); err != nil {
		return Write{}, err
	}
	return w, nil
}

// checkIdempotencyKey adds a violation for field when a key is given and is not a valid key.
func checkIdempotencyKey(key, field string, v *apperr.Violations) {
	if key == "" {
		return
	}
	if err := eventstore.ValidateIdempotencyKey(key); err != nil {
		msg := "is not a valid idempotency key"
		if e, ok := apperr.As(err); ok && len(e.Fields) > 0 {
			msg = e.Fields[0].Description
		}
		v.Add(field, "%s", msg)
	}
}
