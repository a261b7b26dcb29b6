package protomap_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
)

func TestRuleCatalog(t *testing.T) {
	t.Parallel()
	cat := protomap.RuleCatalog()
	for _, typ := range []string{"LeadCreated", "LeadStatusChanged", "LeadTagsAdded", "ContactCreated",
		"OpportunityWon", "OpportunityStageChanged", "CampaignMemberResponded", "CampaignCreated", "TaskCreated"} {
		assert.Contains(t, cat, typ)
	}
	for _, typ := range []string{"RuleSaved", "RuleRunRecorded", "EmailRequested", "Lead", "Deal", "CreateLeadRequest"} {
		assert.NotContains(t, cat, typ)
	}
	assert.Equal(t, rule.RecordLead, cat["LeadCreated"].RecordType)
	assert.Equal(t, rule.RecordPerson, cat["CampaignMemberResponded"].RecordType)
	assert.Equal(t, rule.RecordNone, cat["OpportunityWon"].RecordType)

	for _, cond := range []string{
		`record.country == "US"`,
		`event.to == "MARKETING_QUALIFIED" and record.score >= 60 and record.tags has "vip"`,
		`record.custom_fields.region.string_value == "west"`,
		`event.lead.owner_id != ""`,
	} {
		trigger := "LeadStatusChanged"
		if cond == `event.lead.owner_id != ""` {
			trigger = "LeadCreated"
		}
		_, err := rule.Compile(cond, cat[trigger])
		assert.NoError(t, err, cond)
	}
	_, err := rule.Compile(`event.status == "clicked" and record.email_opt_out == false`, cat["CampaignMemberResponded"])
	assert.NoError(t, err)
}

func TestRuleValues(t *testing.T) {
	t.Parallel()
	v, err := protomap.RuleValues(&leadsv1.Lead{Id: "l1", Country: "US", Tags: []string{"vip"},
		Score: &leadsv1.Score{Total: 72, Temperature: leadsv1.Temperature_TEMPERATURE_HOT}, Status: leadsv1.LeadStatus_LEAD_STATUS_NEW})
	require.NoError(t, err)
	cond, err := rule.Compile(`record.country == "US" and record.tags has "vip" and record.score >= 60 and record.owner_id == "" and record.status == "NEW" and record.score.temperature == "HOT"`,
		protomap.RuleCatalog()["LeadCreated"])
	require.NoError(t, err)
	assert.True(t, cond.Holds(rule.Values{Record: v}))
}
