package protomap

import (
	"time"

	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/tenantcfg"
)

// ConfigCodec is the eventstore.Codec of the tenant's lead configuration (aggregate type
// tenantcfg.AggregateType). Like LeadCodec, an event's At travels as the envelope's
// occurred_at: pass e.OccurredAt() as eventstore.Event.OccurredAt.
type ConfigCodec struct{}

var _ eventstore.Codec[tenantcfg.Event] = ConfigCodec{}

// Encode implements eventstore.Codec.
func (ConfigCodec) Encode(e tenantcfg.Event) (proto.Message, error) {
	switch e := e.(type) {
	case tenantcfg.ScoringModelUpdated:
		return &leadsv1.ScoringModelUpdated{Model: ScoringModelToProto(e.Model)}, nil
	case tenantcfg.TerritoryUpserted:
		return &leadsv1.TerritoryUpserted{Territory: TerritoryToProto(e.Territory)}, nil
	case tenantcfg.TerritoryDeleted:
		return &leadsv1.TerritoryDeleted{TerritoryId: e.TerritoryID}, nil
	case tenantcfg.CustomFieldDefined:
		return &leadsv1.CustomFieldDefined{Field: CustomFieldToProto(e.Object, e.Field)}, nil
	case tenantcfg.CustomFieldDeleted:
		return &leadsv1.CustomFieldDeleted{Name: e.Name, Object: CustomFieldObjectToProto(e.Object)}, nil
	case tenantcfg.LeadSettingsUpdated:
		return &leadsv1.LeadSettingsUpdated{Settings: SettingsToProto(e.Settings)}, nil
	case nil:
		return nil, fmt.Errorf("protomap: encode nil config event")
	}
	return nil, fmt.Errorf("protomap: no mapping for config event %T", e)
}

// Decode implements eventstore.Codec. Stored values are decoded as written (enum numbers are
// not range-checked: the log is the truth); At is the envelope's occurred_at.
func (ConfigCodec) Decode(r eventstore.Recorded) (tenantcfg.Event, error) {
	msg, err := r.Payload()
	if err != nil {
		return nil, err
	}
	at := fromTS(r.Envelope.GetOccurredAt())
	switch m := msg.(type) {
	case *leadsv1.ScoringModelUpdated:
		var ignored apperr.Violations
		return tenantcfg.ScoringModelUpdated{Model: scoringModelFromProto(m.GetModel(), &ignored), At: at}, nil
	case *leadsv1.TerritoryUpserted:
		return tenantcfg.TerritoryUpserted{Territory: territoryFromProto(m.GetTerritory()), At: at}, nil
	case *leadsv1.TerritoryDeleted:
		return tenantcfg.TerritoryDeleted{TerritoryID: m.GetTerritoryId(), At: at}, nil
	case *leadsv1.CustomFieldDefined:
		// An object this build does not know is an error rather than a lead field, so a
		// newer writer's field never lands on leads.
		obj, err := CustomFieldObjectFromProto(m.GetField().GetObject(), "field.object")
		if err != nil {
			return nil, err
		}
		return tenantcfg.CustomFieldDefined{Object: obj, Field: customFieldFromProto(m.GetField()), At: at}, nil
	case *leadsv1.CustomFieldDeleted:
		obj, err := CustomFieldObjectFromProto(m.GetObject(), "object")
		if err != nil {
			return nil, err
		}
		return tenantcfg.CustomFieldDeleted{Object: obj, Name: m.GetName(), At: at}, nil
	case *leadsv1.LeadSettingsUpdated:
		return tenantcfg.LeadSettingsUpdated{Settings: settingsFromProto(m.GetSettings()), At: at}, nil
	}
	return nil, fmt.Errorf("protomap: %s is not a lead configuration event", r.Envelope.GetEventType())
}

// OccurredAt is when a configuration event happened (eventstore.OccurredAter).
func (ConfigCodec) OccurredAt(e tenantcfg.Event) time.Time { return e.OccurredAt() }

var _ eventstore.OccurredAter[tenantcfg.Event] = ConfigCodec{}
