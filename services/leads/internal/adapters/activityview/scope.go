package activityview

import (
	"slices"

	"google.golang.org/protobuf/proto"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/activitymodel"
	"github.com/evcrm/evcrm/services/leads/internal/domain/account"
	"github.com/evcrm/evcrm/services/leads/internal/domain/contact"
)

// recordScope is the change of owner or territory a lead, account or contact event makes, as
// the aggregates' Apply folds it: a lead's owner moves only with LeadAssigned and its territory
// only with LeadTerritoryChanged (merges, conversions and erasures keep both); an account's or
// contact's with their Updated events naming owner_id or territory_id (the domains' field
// paths, the names their changed_fields carry). Tenant, Record and Seq
// are the caller's to set. ok is false for an event that changes neither.
func recordScope(msg proto.Message) (activitymodel.RecordScope, bool) {
	switch m := msg.(type) {
	case *leadsv1.LeadCreated:
		l := m.GetLead()
		return activitymodel.RecordScope{SetOwner: true, Owner: l.GetOwnerId(), SetTerritory: true, Territory: l.GetTerritoryId()}, true
	case *leadsv1.LeadAssigned:
		return activitymodel.RecordScope{SetOwner: true, Owner: m.GetOwnerId()}, true
	case *leadsv1.LeadTerritoryChanged:
		return activitymodel.RecordScope{SetTerritory: true, Territory: m.GetTerritoryId()}, true
	case *leadsv1.AccountCreated:
		a := m.GetAccount()
		return activitymodel.RecordScope{SetOwner: true, Owner: a.GetOwnerId(), SetTerritory: true, Territory: a.GetTerritoryId()}, true
	case *leadsv1.AccountUpdated:
		var sc activitymodel.RecordScope
		if slices.Contains(m.GetChangedFields(), account.PathOwnerID) {
			sc.SetOwner, sc.Owner = true, m.GetAfter().GetOwnerId()
		}
		if slices.Contains(m.GetChangedFields(), account.PathTerritoryID) {
			sc.SetTerritory, sc.Territory = true, m.GetAfter().GetTerritoryId()
		}
		return sc, sc.SetOwner || sc.SetTerritory
	case *leadsv1.ContactCreated:
		return activitymodel.RecordScope{SetOwner: true, Owner: m.GetContact().GetOwnerId()}, true
	case *leadsv1.ContactUpdated:
		if slices.Contains(m.GetChangedFields(), contact.PathOwnerID) {
			return activitymodel.RecordScope{SetOwner: true, Owner: m.GetAfter().GetOwnerId()}, true
		}
	}
	return activitymodel.RecordScope{}, false
}
