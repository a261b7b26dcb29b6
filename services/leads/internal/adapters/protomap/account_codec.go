package protomap

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/eventstore"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
)

// AccountCodec is the eventstore.Codec of the account aggregate: AccountCreated and
// AccountUpdated map to the crm.leads.v1 messages of the same name; At travels in the
// envelope (occurred_at).
type AccountCodec struct{}

var (
	_ eventstore.Codec[account.Event]        = AccountCodec{}
	_ eventstore.OccurredAter[account.Event] = AccountCodec{}
)

// OccurredAt is when an account event happened (the envelope's occurred_at).
func (AccountCodec) OccurredAt(e account.Event) time.Time { return e.OccurredAt() }

// Encode implements eventstore.Codec.
func (AccountCodec) Encode(e account.Event) (proto.Message, error) {
	switch e := e.(type) {
	case account.AccountCreated:
		return &leadsv1.AccountCreated{Account: AccountToProto(e.Account)}, nil
	case account.AccountUpdated:
		return &leadsv1.AccountUpdated{ChangedFields: cloneOrNil(e.Changed),
			Before: AccountDetailsToProto(e.Before), After: AccountDetailsToProto(e.After)}, nil
	}
	return nil, fmt.Errorf("protomap: unknown account event %T", e)
}

// Decode implements eventstore.Codec.
func (AccountCodec) Decode(r eventstore.Recorded) (account.Event, error) {
	msg, err := r.Payload()
	if err != nil {
		return nil, err
	}
	at := fromTS(r.Envelope.GetOccurredAt())
	switch m := msg.(type) {
	case *leadsv1.AccountCreated:
		return account.AccountCreated{Account: AccountFromProto(m.GetAccount()), At: at}, nil
	case *leadsv1.AccountUpdated:
		return account.AccountUpdated{Changed: cloneOrNil(m.GetChangedFields()),
			Before: AccountDetailsFromProto(m.GetBefore()), After: AccountDetailsFromProto(m.GetAfter()), At: at}, nil
	}
	return nil, fmt.Errorf("protomap: %T is not an account event", msg)
}
