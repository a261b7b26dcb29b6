package service_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/testkit"
	"github.com/evcrm/evcrm/services/leads/internal/app"
)

// TestFaultConversionCrashAfterEachStep is issue 11's fault test 5 for lead conversion, at every
// point of the saga (TestConvertLeadRetryAfterLeadsProcessDied covers the contact step alone,
// with one instance).
//
// Fault: the leads replica running ConvertLead dies right after a step has been stored — after
// the account, after the contact, or after the pipeline service opened the opportunity and
// before LeadConverted — (the AfterConversionStep hook ends the saga there, as the process's
// death would, and the replica is then stopped). The client retries twice at once: on the other
// replica, which has been running all along with its own caches and read models, and on a
// restarted instance of the dead one.
//
// Load: one SALES_QUALIFIED lead per step (3 by default, 3 × 3 with -soak), the real pipeline
// service as a child process.
//
// Invariants: both retries succeed with the ids derived from the conversion; each lead ends
// CONVERTED with exactly one account, one contact, one opportunity (one OpportunityCreated on its
// subject in CRM_PIPELINE, naming the lead) and one LeadConverted, however far the dead replica
// had got; the opportunity is readable in the pipeline service.
func TestFaultConversionCrashAfterEachStep(t *testing.T) {
	t.Parallel()
	rounds := 1
	if testkit.Soak() {
		rounds = 3
	}
	n := testkit.StartNATS(t)
	p := startPipeline(t, n)
	survivor := startLeads(t, n, p, nil)
	ctx := as(t, "acme", "closer-1")
	converted := 0
	for round := range rounds {
		for _, step := range []string{app.StepAccount, app.StepContact, app.StepOpportunity} {
			victim := startLeads(t, n, p, func(s string) error {
				if s == step {
					return errCrash
				}
				return nil
			})
			l := crashLead(t, victim.client, converted)
			_, err := victim.client.ConvertLead(ctx, convertReq(l.GetId()))
			require.Error(t, err, "the saga died after the %s step", step)
			victim.stop()
			before := counts(t, n)
			want := recordCounts{converted + 1, converted + 1, converted, converted}
			if step == app.StepAccount {
				want.contacts = converted
			}
			if step == app.StepOpportunity {
				want.opportunities = converted + 1
			}
			assert.Equal(t, want, before, "round %d: what the dead replica stored after the %s step", round, step)

			restarted := startLeads(t, n, p, nil)
			var wg sync.WaitGroup
			results := make([]*leadsv1.ConvertLeadResponse, 2)
			errs := make([]error, 2)
			for i, h := range []*harness{survivor, restarted} {
				wg.Go(func() { results[i], errs[i] = h.client.ConvertLead(as(t, "acme", "closer-1"), convertReq(l.GetId())) })
			}
			wg.Wait()
			ids := app.DeriveConversionIDs("acme", l.GetId())
			for i := range results {
				require.NoError(t, errs[i], "retry %d after the %s step", i, step)
				assert.Equal(t, leadsv1.LeadStatus_LEAD_STATUS_CONVERTED, results[i].GetLead().GetStatus())
				assert.Equal(t, ids.Opportunity, results[i].GetOpportunityId())
				assert.Equal(t, ids.Account, results[i].GetAccountId())
			}
			converted++
			assert.Equal(t, recordCounts{converted, converted, converted, converted}, counts(t, n),
				"round %d, %s: one account, contact, opportunity and LeadConverted per lead", round, step)
			assert.Equal(t, 1, countOnStream(t, n, "CRM_PIPELINE", "crm.acme.opportunity."+ids.Opportunity+".OpportunityCreated"))
			assert.Equal(t, 1, countOnStream(t, n, "CRM_LEADS", "crm.acme.lead."+l.GetId()+".LeadConverted"))
			var opp *pipelinev1.GetOpportunityResponse
			require.Eventually(t, func() bool {
				opp, err = p.client(t).GetOpportunity(ctx, &pipelinev1.GetOpportunityRequest{OpportunityId: ids.Opportunity})
				return err == nil
			}, 10*time.Second, 20*time.Millisecond)
			assert.Equal(t, l.GetId(), opp.GetOpportunity().GetLeadId())
			restarted.stop()
		}
	}
}

// crashLead creates the i-th SALES_QUALIFIED lead of the crash test, with a phone, an email and a
// website of its own so that the conversions' dedupe checks never tie two leads together.
func crashLead(t *testing.T, c leadsv1.LeadsServiceClient, i int) *leadsv1.Lead {
	t.Helper()
	ctx := as(t, "acme", "rep-1")
	l := newLead(fmt.Sprintf("ada@crash%d.example", i))
	l.Company, l.Website, l.Phone = fmt.Sprintf("Crash %d Ltd", i), fmt.Sprintf("https://crash%d.example", i), fmt.Sprintf("+44 20 7946 %04d", i)
	created, err := c.CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: l})
	require.NoError(t, err)
	id := created.GetLead().GetId()
	_, err = c.SetBant(ctx, &leadsv1.SetBantRequest{LeadId: id, Bant: &leadsv1.Bant{
		Budget: &commonv1.Money{CurrencyCode: "EUR", Units: 1000}, BudgetConfirmed: true,
		Authority: "CFO", AuthorityConfirmed: true, Need: "forecasting", NeedConfirmed: true,
		Timeline: timestamppb.New(time.Now().Add(30 * 24 * time.Hour)), TimelineConfirmed: true}})
	require.NoError(t, err)
	var last *leadsv1.Lead
	for _, to := range []leadsv1.LeadStatus{leadsv1.LeadStatus_LEAD_STATUS_MARKETING_QUALIFIED,
		leadsv1.LeadStatus_LEAD_STATUS_SALES_ACCEPTED, leadsv1.LeadStatus_LEAD_STATUS_SALES_QUALIFIED} {
		res, err := c.ChangeLeadStatus(ctx, &leadsv1.ChangeLeadStatusRequest{LeadId: id, Status: to})
		require.NoError(t, err, "to %s", to)
		last = res.GetLead()
	}
	return last
}
