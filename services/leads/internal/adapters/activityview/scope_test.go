package activityview

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/protobuf/proto"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/activitymodel"
)

// TestRecordScope: every event that changes a lead's, account's or contact's owner or
// territory gives that change, and only the fields it changes; other events give none.
func TestRecordScope(t *testing.T) {
	t.Parallel()
	both := func(o, terr string) activitymodel.RecordScope {
		return activitymodel.RecordScope{SetOwner: true, Owner: o, SetTerritory: true, Territory: terr}
	}
	for _, tt := range []struct {
		msg  proto.Message
		want activitymodel.RecordScope
		ok   bool
	}{
		{&leadsv1.LeadCreated{Lead: &leadsv1.Lead{OwnerId: "u1", TerritoryId: "emea"}}, both("u1", "emea"), true},
		{&leadsv1.LeadCreated{Lead: &leadsv1.Lead{}}, both("", ""), true},
		{&leadsv1.LeadAssigned{PreviousOwnerId: "u1", OwnerId: "u2", TerritoryId: "emea"}, activitymodel.RecordScope{SetOwner: true, Owner: "u2"}, true},
		{&leadsv1.LeadAssigned{PreviousOwnerId: "u1"}, activitymodel.RecordScope{SetOwner: true}, true},
		{&leadsv1.LeadTerritoryChanged{PreviousTerritoryId: "emea", TerritoryId: "dach"}, activitymodel.RecordScope{SetTerritory: true, Territory: "dach"}, true},
		{&leadsv1.AccountCreated{Account: &leadsv1.Account{OwnerId: "u1", TerritoryId: "emea"}}, both("u1", "emea"), true},
		{&leadsv1.AccountUpdated{ChangedFields: []string{"name", "owner_id"}, After: &leadsv1.Account{OwnerId: "u3", TerritoryId: "x"}},
			activitymodel.RecordScope{SetOwner: true, Owner: "u3"}, true},
		{&leadsv1.AccountUpdated{ChangedFields: []string{"territory_id"}, After: &leadsv1.Account{}},
			activitymodel.RecordScope{SetTerritory: true}, true},
		{&leadsv1.AccountUpdated{ChangedFields: []string{"name"}, After: &leadsv1.Account{Name: "n"}}, activitymodel.RecordScope{}, false},
		{&leadsv1.ContactCreated{Contact: &leadsv1.Contact{OwnerId: "u1"}}, activitymodel.RecordScope{SetOwner: true, Owner: "u1"}, true},
		{&leadsv1.ContactUpdated{ChangedFields: []string{"owner_id"}, After: &leadsv1.Contact{}}, activitymodel.RecordScope{SetOwner: true}, true},
		{&leadsv1.ContactUpdated{ChangedFields: []string{"email"}}, activitymodel.RecordScope{}, false},
		{&leadsv1.LeadMerged{MergedLeadId: "l2"}, activitymodel.RecordScope{}, false},
		{&leadsv1.LeadConverted{OwnerId: "u1"}, activitymodel.RecordScope{}, false},
		{&leadsv1.LeadStatusChanged{OwnerId: "u1", TerritoryId: "emea"}, activitymodel.RecordScope{}, false},
	} {
		got, ok := recordScope(tt.msg)
		assert.Equal(t, tt.ok, ok, "%T", tt.msg)
		if ok {
			assert.Equal(t, tt.want, got, "%T %v", tt.msg, tt.msg)
		}
	}
}
