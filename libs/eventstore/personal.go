package eventstore

import (
	"context"

	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
)

// PersonalData seals the personal fields of events before they are appended and opens them in
// events read back (crypto-shredding, docs/events.md "Personal data"). libs/pii implements it;
// Options.PersonalData plugs it in.
type PersonalData interface {
	// Seal is called with the envelope of each event to append (event id, tenant, aggregate and
	// type set; Payload holds payload serialized) and may replace env.Payload and set
	// env.PersonalData. An error fails the append before anything is published.
	Seal(ctx context.Context, env *eventsv1.Envelope, payload proto.Message) error
	// Open puts sealed personal fields back into env.Payload and clears env.PersonalData; it
	// leaves an envelope without PersonalData as it is.
	Open(ctx context.Context, env *eventsv1.Envelope) error
}

// open opens the personal data of events read back, when the store has a PersonalData.
func (s *Store) open(ctx context.Context, recs []Recorded) error {
	if s.opts.PersonalData == nil {
		return nil
	}
	for _, r := range recs {
		if err := s.opts.PersonalData.Open(ctx, r.Envelope); err != nil {
			return err
		}
	}
	return nil
}
