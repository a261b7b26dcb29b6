package activityview

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"google.golang.org/protobuf/proto"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/activity"
)

func TestSummaries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg  proto.Message
		want string
	}{
		{&leadsv1.LeadCreated{}, "Created"},
		{&leadsv1.LeadStatusChanged{From: leadsv1.LeadStatus_LEAD_STATUS_NEW, To: leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED}, "Status NEW → MARKETING_QUALIFIED"},
		{&leadsv1.LeadDetailsUpdated{ChangedFields: []string{"email", "phone"}}, "Changed email, phone"},
		{&leadsv1.ContactUpdated{ChangedFields: []string{"job_title"}}, "Changed job_title"},
		{&leadsv1.AccountCreated{}, "Created"},
		{&leadsv1.LeadAssigned{OwnerId: "rep-2"}, "Assigned to rep-2"},
		{&leadsv1.LeadTagsAdded{Tags: []string{"vip", "q3"}}, "Tagged vip, q3"},
		{&leadsv1.EngagementRecorded{Signal: leadsv1.EngagementSignal_ENGAGEMENT_SIGNAL_CALL, Points: 10}, "Engagement CALL (+10 points)"},
		{&leadsv1.LeadConverted{AccountId: "a1", ContactId: "c1", OpportunityId: "o1"}, "Converted into account a1 and contact c1, opportunity o1"},
		{&leadsv1.LeadMergedInto{SurvivorLeadId: "l2"}, "Merged into lead l2"},
		{&leadsv1.LeadOpportunityWon{OpportunityId: "o1", CloseDate: "2025-03-01"}, "Opportunity o1 won, closed 2025-03-01"},
		{&leadsv1.LeadOpportunityWon{OpportunityId: "o1"}, "Opportunity o1 won"},
		{&leadsv1.TaskStatusChanged{}, "Task status changed"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, recordSummary(tc.msg), "%T", tc.msg)
	}
	a := activity.Activity{Kind: activity.KindCall, Direction: activity.DirectionOutbound, Subject: "Intro", Outcome: "voicemail", Duration: 90 * time.Second}
	assert.Equal(t, "Call (outbound): Intro — voicemail (1m30s)", activitySummary(a))
}
